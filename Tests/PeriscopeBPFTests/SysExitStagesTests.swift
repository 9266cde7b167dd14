import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// The tracer's one `sys_exit` program and its stages: the propagation's server-context decision
/// runs as a tail call of either tracer variant (a tail call stays within one program type), and
/// its report comes ahead of the tracer's event of the same read.
@Suite(.serialized) struct SysExitStagesTests {
    @Test(arguments: Tracer.Variant.allCases)
    func theServerContextOfARequestReadComesBeforeTheReadItself(variant: Tracer.Variant) throws {
        try Tracefs.ensureMounted()
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        let cgroup = try #require(Propagation.cgroup2MountPoint(mounts: mounts))
        let tracer = try Tracer(variant: variant)
        let propagation = try Propagation(tracer: tracer, cgroupPath: cgroup)
        try propagation.apply(PropagationSettings(enabled: true))
        try tracer.attach()
        let port: UInt16 = variant == .btf ? 18433 : 18434
        let server = try TestProcess("python3", ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", "/tmp"])
        defer { server.stop() }
        try waitForPort(port)
        try tracer.apply(KernelFilter(allProcesses: false, targets: [server.pid: .withDescendants]))
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        try run("curl", ["-s", "-o", "/dev/null", "-H", "traceparent: 00-\(traceID)-00f067aa0ba902b7-01", "http://127.0.0.1:\(port)/"])

        var events: [CaptureEvent] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, !events.contains(where: { $0.kind == .data(.egress) }) {
            try tracer.poll(timeoutMilliseconds: 50) { record in
                if let event = try? CaptureEvent(record: record) { events.append(event) }
            }
        }
        let readIndex = try #require(events.firstIndex {
            $0.kind == .data(.ingress) && String(decoding: $0.payload, as: UTF8.self).hasPrefix("GET / HTTP/1.1\r\n")
        })
        let contextIndex = try #require(events.firstIndex {
            if case .traceContext(let context) = $0.kind { return context.origin == .serverRequest }
            return false
        })
        #expect(contextIndex < readIndex)
        guard case .traceContext(let context) = events[contextIndex].kind else { return }
        #expect(context.traceID.hex == traceID)
        #expect(context.parentIsRemote)
        #expect(propagation.counters().serverContexts >= 1)
    }
}
