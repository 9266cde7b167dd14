import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    @Suite struct AgentHTTPTests {
        @Test func curlToPythonGivesOneServerAndOneClientSpan() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("hello.txt", String(repeating: "x", count: 1234))
            let server = try startPythonServer(port: testPort(18501), directory: site.path)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18501))]\n")

            let before = ContinuousClock.now
            let curl = try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18501))/hello.txt?lang=en"])
            curl.wait()
            let wall = ContinuousClock.now - before

            let serverSpans = try await agent.waitForSpans { $0.isServer && $0.isHTTP }
            let clientSpans = try await agent.waitForSpans { $0.isClient && $0.isHTTP }
            try agent.stop()

            #expect(serverSpans.count == 1)
            #expect(clientSpans.count == 1)
            let span = try #require(serverSpans.first)
            #expect(span.method == "GET")
            #expect(span.path == "/hello.txt")
            #expect(span.name == "GET /hello.txt", "no configured route: the path, which holds no identifier, is the route")
            #expect(span.statusCode == 200)
            #expect(span.responseBodySize == 1234)
            #expect(span.requestBodySize == 0)
            #expect(span.localPort == Int(testPort(18501)))
            #expect(span.int("server.port") == Int(testPort(18501)))
            #expect(span.string("server.address") == "127.0.0.1")
            #expect(span.string("client.address") == "127.0.0.1")
            #expect(span.pid == server.pid)
            #expect(span.executable.contains("python"))
            #expect(span.traceID.count == 32 && span.spanID.count == 16)
            let client = try #require(clientSpans.first)
            #expect(client.pid == curl.pid)
            #expect(client.peerPort == Int(testPort(18501)))
            #expect(client.int("server.port") == Int(testPort(18501)))
            #expect(client.localPort == span.peerPort)
            #expect(client.statusCode == 200)
            #expect(client.responseBodySize == 1234)
            #expect(client.executable.hasSuffix("curl"))
            let wallNanos = UInt64(wall.components.seconds) * 1_000_000_000 + UInt64(wall.components.attoseconds / 1_000_000_000)
            #expect(span.duration > 0 && span.duration <= wallNanos)
            #expect(client.duration > 0 && client.duration <= wallNanos)
            // Same clock, same connection: the server's work lies inside the client's wait.
            #expect(client.start <= span.start)
            #expect(span.end <= client.end)
            let now = UInt64(Date().timeIntervalSince1970 * 1e9)
            #expect(span.start < now && now - span.start < 60_000_000_000)
        }

        @Test func ipv6ConnectionsCarryTheirAddresses() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try TestProcess("python3", ["-m", "http.server", "\(testPort(18505))", "--bind", "::1", "--directory", site.path])
            // Up once it answers over IPv6 (waitForPort knows IPv4 only).
            let deadline = ContinuousClock.now + .seconds(30)
            while try run("curl", ["-s", "http://[::1]:\(testPort(18505))/index.html"]) != "hello\n" {
                guard ContinuousClock.now < deadline, server.isRunning else {
                    throw TestFailure("the IPv6 server did not answer within 30 s:\n\(server.log)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18505))]\n")
            try run("curl", ["-s", "-o", "/dev/null", "http://[::1]:\(testPort(18505))/index.html"])
            let spans = try await agent.waitForSpans(count: 2) { $0.isHTTP }
            try agent.stop()
            let span = try #require(spans.first { $0.isServer })
            #expect(span.pid == server.pid)
            #expect(span.string("server.address") == "::1")
            #expect(span.string("client.address") == "::1")
            #expect(span.int("server.port") == Int(testPort(18505)))
            #expect(span.statusCode == 200)
            #expect(spans.contains { $0.isClient && $0.peerPort == Int(testPort(18505)) && $0.string("network.peer.address") == "::1" })
        }

        @Test func thousandKeepAliveAndPipelinedRequestsThroughNginxGiveExactlyThousandSpans() async throws {
            let directory = try TemporaryDirectory()
            let nginx = try startNginx(in: directory, port: testPort(18502), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18502));
                    location / { return 200 "hello from nginx\\n"; }
                }
                """)
            // By pid: the master and, through it, its worker (other nginx on the host stay out).
            let agent = try await AgentHarness(policy: """
                pids: [\(nginx.pid)]
                ports: [\(testPort(18502))]
                """)

            // 10 keep-alive connections × 100 requests; half of them send batches of 5 pipelined requests.
            for connection in 0..<10 {
                let client = try TCPClient(port: testPort(18502))
                let batch = connection % 2 == 0 ? 1 : 5
                for first in stride(from: 0, to: 100, by: batch) {
                    let requests = (first..<(first + batch)).map {
                        "GET /c\(connection)/r\($0) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: periscope-test\r\n\r\n"
                    }
                    try client.send(requests.joined())
                    _ = try client.receive(untilSeeing: "hello from nginx\n", times: batch)
                }
            }
            _ = try await agent.waitForSpans(count: 1000, timeout: .seconds(20)) { $0.isServer }
            try await Task.sleep(for: .milliseconds(500))
            let metrics = try agent.stop()
            let spans = try agent.spans

            #expect(spans.count == 1000)
            #expect(spans.allSatisfy { $0.isServer })
            #expect(Set(spans.compactMap(\.path)).count == 1000, "every request exactly once")
            #expect(spans.allSatisfy { $0.statusCode == 200 && $0.responseBodySize == 17 })
            #expect(spans.allSatisfy { $0.executable.hasSuffix("nginx") && $0.pid != nginx.pid })
            #expect(metrics["spans_emitted"] == 1000)
            #expect(metrics["events_lost"] == 0)
            #expect(metrics["decode_errors"] == 0)
            #expect(metrics["processes_attached"] == 2, "nginx master and worker")
        }
    }
}
