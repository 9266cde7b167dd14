import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// The BPF adapter against this kernel: loads, attaches and captures, one variant at a time.
@Suite(.serialized) struct TracerTests {
    @Test(arguments: Tracer.Variant.allCases)
    func capturesAcceptReadWriteAndCloseOfATargetedServer(variant: Tracer.Variant) throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(variant: variant)
        try tracer.attach()
        let server = try TestProcess("python3", ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", "/tmp"])
        defer { server.stop() }
        let port = try listeningPort(of: server)
        try waitForPort(port, of: server)
        try tracer.apply(KernelFilter(allProcesses: false, targets: [server.pid: .withDescendants]))
        try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])

        var events: [CaptureEvent] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, events.filter({ $0.kind == .closed }).count < 2 {
            try tracer.poll(timeoutMilliseconds: 50) { record in
                if let event = try? CaptureEvent(record: record) { events.append(event) }
            }
        }
        // The readiness probe's connection comes first; the request is on the connection that carried data.
        // A socket id can come back for the next connection (the probe's socket closed first), so
        // the request's connection is the last one opened with its id before it.
        let requestIndex = try #require(events.firstIndex { $0.kind == .data(.ingress) })
        let request = events[requestIndex]
        #expect(String(decoding: request.payload, as: UTF8.self).hasPrefix("GET / HTTP/1.1\r\n"))
        #expect(request.totalLength == request.payload.count)
        let opened = try #require(events[..<requestIndex].last { $0.kind == .opened(.server) && $0.socketID == request.socketID })
        #expect(opened.pid == server.pid)
        #expect(opened.local.port == port)
        #expect(opened.local.host == "127.0.0.1")
        #expect(opened.peer.host == "127.0.0.1")
        #expect(opened.peer == request.peer)
        let written = events.filter { $0.kind == .data(.egress) }
        #expect(written.contains { String(decoding: $0.payload, as: UTF8.self).hasPrefix("HTTP/1.0 200 OK") })
        #expect(events.contains { $0.kind == .closed && $0.socketID == request.socketID })
        #expect(tracer.counters().lost == 0)
        #expect(tracer.counters().submitted >= UInt64(events.count))
    }
}
