import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// The tracer's one `sys_exit` program and its stages: the propagation's server-context decision
/// runs as a tail call of either tracer variant (a tail call stays within one program type), and
/// the context it decides comes in the tracer's record of the same read.
@Suite(.serialized) struct SysExitStagesTests {
    @Test(arguments: Tracer.Variant.allCases)
    func theServerContextOfARequestReadComesInTheReadsOwnRecord(variant: Tracer.Variant) throws {
        let (tracer, propagation) = try propagatingTracer(variant: variant)
        let server = try TestProcess("python3", ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", "/tmp"])
        defer { server.stop() }
        let port = try listeningPort(of: server)
        try waitForPort(port, of: server)
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
        let read = try #require(events.first {
            $0.kind == .data(.ingress) && String(decoding: $0.payload, as: UTF8.self).hasPrefix("GET / HTTP/1.1\r\n")
        })
        let context = try #require(read.kernelContext)
        #expect(!events.contains { if case .traceContext = $0.kind { true } else { false } })
        #expect(context.origin == .serverRequest)
        #expect(context.traceID.hex == traceID)
        #expect(context.parentIsRemote)
        #expect(propagation.counters().serverContexts >= 1)
    }

    /// A read on a connection whose ports the filter leaves out gets no context decided (a
    /// policy selecting by port selects every process of the node).
    @Test func noContextIsDecidedForAConnectionWhosePortsAreNotSelected() throws {
        let (tracer, propagation) = try propagatingTracer()
        let server = try TestProcess("python3", ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", "/tmp"])
        defer { server.stop() }
        let port = try listeningPort(of: server)
        try waitForPort(port, of: server)
        var bitmap = [UInt64](repeating: 0, count: 1024)
        let other = port == .max ? Int(port) - 1 : Int(port) + 1
        bitmap[other / 64] |= 1 << UInt64(other % 64)
        var filter = KernelFilter(allProcesses: false, targets: [server.pid: .withDescendants])
        filter.portBitmap = bitmap
        try tracer.apply(filter)
        try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])
        var events: [CaptureEvent] = []
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline {
            try tracer.poll(timeoutMilliseconds: 50) { record in
                if let event = try? CaptureEvent(record: record) { events.append(event) }
            }
        }
        #expect(!events.contains { $0.kind == .data(.ingress) })
        #expect(propagation.counters().serverContexts == 0)
    }
}
