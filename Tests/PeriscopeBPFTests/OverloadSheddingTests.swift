import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// Under overload the kernel sheds whole new connections and requests, never part of an
/// exchange being captured: a reader that does not read makes half of a small ring buffer
/// fill, and what was captured still decodes into whole exchanges.
@Suite(.serialized) struct OverloadSheddingTests {
    @Test func aReaderFallingBehindLosesWholeConnectionsAndRequestsNeverPartsOfThem() throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(ringBufferBytes: 64 * 1024)
        try tracer.attach()
        let port = testPort(18593)
        let server = try TestProcess("python3", ["-c", """
            import http.server, socketserver
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    body = b"x" * 600
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args): pass
            socketserver.TCPServer.allow_reuse_address = True
            http.server.ThreadingHTTPServer(("127.0.0.1", \(port)), Handler).serve_forever()
            """])
        defer { server.stop() }
        try waitForPort(port, of: server)
        try tracer.apply(KernelFilter(allProcesses: false, targets: [server.pid: .withDescendants]))
        // Keep-alive connections making many requests each, with nobody reading the ring buffer.
        try run("python3", ["-c", """
            import http.client
            for c in range(12):
                conn = http.client.HTTPConnection("127.0.0.1", \(port))
                for i in range(30):
                    conn.request("GET", f"/c{c}/r{i}")
                    conn.getresponse().read()
                conn.close()
            """])
        var tracker = ConnectionTracker(clock: ClockMapping(offsetNanos: 0))
        var spans: [Span] = []
        var events = 0
        for _ in 0..<20 {
            try tracer.poll(timeoutMilliseconds: 20) { record in
                guard let event = try? CaptureEvent(record: record) else { return }
                events += 1
                tracker.handle(event, into: &spans)
            }
        }
        spans += tracker.finishAll(at: .max / 2, reason: "test over")
        let counters = tracer.counters()
        #expect(counters.lost == 0, "shedding kept the ring buffer from overflowing")
        #expect(counters.shedConnections + counters.shedRequests > 0, "the reader was behind: something was shed")
        #expect(counters.shedEvents > 0)
        let exchanges = spans.filter { $0.http != nil }
        #expect(!exchanges.isEmpty, "what was captured before the buffer filled still decodes")
        for span in exchanges {
            #expect(span.status != .error && span.http?.statusCode == 200 && span.http?.responseBodySize == 600,
                    "a whole exchange: \(span.http?.target ?? "?") \(span.statusMessage ?? "")")
        }
        #expect(tracker.counters.decodeErrors == 0 && tracker.counters.lostSync == 0)
    }
}
