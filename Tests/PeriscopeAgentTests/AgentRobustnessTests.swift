import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    @Suite struct AgentRobustnessTests {
        @Test func garbageTruncatedHeadersAndFuzzedRequestsAreCountedNotFatal() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try startPythonServer(port: testPort(18521), directory: site.path)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18521))]\n")

            var generator = SeededGenerator(seed: 0x5eed)
            let valid = Array("GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8)
            for round in 0..<150 {
                let client = try TCPClient(port: testPort(18521))
                var bytes: [UInt8]
                switch round % 3 {
                case 0:  // binary garbage
                    bytes = (0..<Int.random(in: 1...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                case 1:  // a request with random bytes flipped
                    bytes = valid
                    for _ in 0..<Int.random(in: 1...8, using: &generator) {
                        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                    }
                default:  // a truncated head, then the connection closes
                    bytes = Array("GET /\(round) HTTP/1.1\r\nHost: x\r\nX-Long: \(String(repeating: "a", count: round * 20))".utf8)
                }
                try client.send(bytes)
                shutdown(client.fd, Int32(SHUT_WR))
                _ = try? client.receive(count: 1 << 20)
            }
            // The agent still works.
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18521))/index.html"])
            let spans = try await agent.waitForSpans { $0.isServer && $0.path == "/index.html" && $0.statusCode == 200 }
            #expect(agent.process.isRunning)
            #expect(server.isRunning)
            let metrics = try agent.stop()
            #expect(!spans.isEmpty)
            #expect((metrics["decode_errors"] ?? 0) > 0)
            #expect(metrics["malformed_records"] == 0)
        }
    }
}

/// A deterministic generator (SplitMix64) so a failing fuzz round can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
