import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    @Suite struct AgentTCPTests {
        static let echoServer = """
            import socket, threading
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", \(testPort(18504)))); s.listen(16)
            def serve(c):
                while True:
                    data = c.recv(65536)
                    if not data: break
                    c.sendall(data)
                c.close()
            while True:
                c, _ = s.accept()
                threading.Thread(target=serve, args=(c,), daemon=True).start()
            """

        @Test func haproxyInTCPModeGivesConnectionSpansForBothSidesWithExactByteCounts() async throws {
            let directory = try TemporaryDirectory()
            let echo = try TestProcess("python3", ["-c", Self.echoServer])
            defer { echo.stop() }
            try waitForPort(testPort(18504))
            let haproxy = try startHAProxy(in: directory, port: testPort(18503), body: """
                listen relay
                    mode tcp
                    bind 127.0.0.1:\(testPort(18503))
                    server backend 127.0.0.1:\(testPort(18504))
                """)
            let agent = try await AgentHarness(policy: "executables: [haproxy]\n")

            var generator = SystemRandomNumberGenerator()
            var sent = [UInt8(0x16)]  // a TLS-like first byte: not HTTP
            sent += (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                let client = try TCPClient(port: testPort(18503))
                for chunk in stride(from: 0, to: sent.count, by: 7000) {
                    try client.send(Array(sent[chunk..<min(chunk + 7000, sent.count)]))
                }
                let received = try client.receive(count: sent.count)
                #expect(received == sent)
            }
            let spans = try await agent.waitForSpans(count: 2, timeout: .seconds(15)) { $0.isTCP }
            try agent.stop()

            let front = try #require(spans.first { $0.isServer && $0.localPort == Int(testPort(18503)) })
            let back = try #require(spans.first { $0.isClient && $0.peerPort == Int(testPort(18504)) })
            #expect(front.pid == haproxy.pid && back.pid == haproxy.pid)
            #expect(front.bytesReceived == sent.count && front.bytesSent == sent.count)
            #expect(back.bytesSent == sent.count && back.bytesReceived == sent.count)
            #expect(front.duration > 0)
            #expect(back.start >= front.start)
            #expect(try agent.spans.allSatisfy { !$0.isHTTP })
        }

        /// A server that shuts down its sending side first and closes once the client has
        /// closed too: by then the kernel has released the socket's port, and the close must
        /// still end the connection (not the agent's exit).
        @Test func connectionShutDownBeforeItsCloseEndsAtTheClose() async throws {
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18506))]\nprotocols: [tcp]\n")
            let server = try TestProcess("python3", ["-c", """
                import socket, time
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", \(testPort(18506)))); s.listen(4)
                while True:
                    c, _ = s.accept()
                    c.sendall(c.recv(100))
                    c.shutdown(socket.SHUT_WR)
                    while c.recv(100): pass
                    time.sleep(0.2)
                    c.close()
                """])
            defer { server.stop() }
            try waitForPort(testPort(18506))
            do {
                let client = try TCPClient(port: testPort(18506))
                try client.send(Array("\u{1}ping".utf8))
                _ = try client.receive(count: 5)
            }
            let spans = try await agent.waitForSpans(count: 1, timeout: .seconds(5)) { $0.isServer && $0.pid == server.pid && $0.bytesReceived == 5 }
            #expect(spans.count == 1, "the server's connection ended while the agent runs")
            #expect(spans.first.map { $0.duration < 5_000_000_000 } == true)
            #expect(spans.first?.bytesSent == 5 && spans.first?.bytesReceived == 5)
            try agent.stop()
        }
    }
}
