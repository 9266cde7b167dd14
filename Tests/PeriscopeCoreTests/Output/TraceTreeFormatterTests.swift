import Testing
@testable import PeriscopeCore

@Suite struct TraceTreeFormatterTests {
    @Test func printsEachHopIndentedUnderItsParentWithSelfAndWaitingTime() {
        var root = Hop.http(.client, pid: 1, clientPort: 40000, serverPort: 8001, target: "/a", from: 0, to: 10_000_000)
        root.executable = "/usr/bin/curl"
        var server = Hop.http(.server, pid: 2, clientPort: 40000, serverPort: 8001, target: "/a", from: 1_000_000, to: 9_000_000)
        server.executable = "/usr/sbin/nginx"
        server.parentSpanID = root.spanID
        var callA = Hop.http(.client, pid: 2, clientPort: 40001, serverPort: 8002, target: "/a", from: 2_000_000, to: 5_000_000)
        callA.parentSpanID = server.spanID
        callA.status = .error
        callA.statusMessage = "connection closed"
        var callB = Hop.http(.client, pid: 2, clientPort: 40002, serverPort: 8002, target: "/a", from: 4_000_000, to: 6_000_000)
        callB.parentSpanID = server.spanID
        let text = TraceTreeFormatter().format([callB, callA, server, root].map { var s = $0; s.traceID = root.traceID; return s })
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "trace \(root.traceID.hex)  4 spans  10.000 ms")
        #expect(lines[1] == "CLIENT GET  curl[1]  10.000 ms  self 2.000 ms  waiting 8.000 ms")
        #expect(lines[2] == "  SERVER GET  nginx[2]  8.000 ms  self 4.000 ms  waiting 4.000 ms", "overlapping calls count once")
        #expect(lines[3] == "    CLIENT GET ERROR (connection closed)  pid[2]  3.000 ms  self 3.000 ms  waiting 0.000 ms")
        #expect(lines[4].hasPrefix("    CLIENT GET  pid[2]  2.000 ms"))
    }

    @Test(arguments: [(0 as UInt64, "0.000 ms"), (499, "0.000 ms"), (1_500, "0.002 ms"), (12_480_000, "12.480 ms"), (3_000_000_000, "3000.000 ms")])
    func formatsMilliseconds(nanos: UInt64, text: String) {
        #expect(TraceTreeFormatter.milliseconds(nanos) == text)
    }
}
