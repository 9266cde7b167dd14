import Foundation
import PeriscopeCore
import Testing

extension KernelTests {
    @Suite struct AgentHTTPTests {
        @Test func curlToPythonGivesOneServerAndOneClientSpan() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("hello.txt", String(repeating: "x", count: 1234))
            let server = try startPythonServer(port: 18501, directory: site.path)
            let harness = try await AgentHarness(policy: "ports: [18501]\n")

            let before = ContinuousClock.now
            let curl = try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:18501/hello.txt?lang=en"])
            var status: Int32 = 0
            waitpid(curl.pid, &status, 0)
            let wall = ContinuousClock.now - before

            let serverSpans = try await harness.waitForSpans { $0.kind == .server && $0.http != nil }
            let clientSpans = try await harness.waitForSpans { $0.kind == .client && $0.http != nil }
            try await harness.stop()

            #expect(serverSpans.count == 1)
            #expect(clientSpans.count == 1)
            let span = try #require(serverSpans.first)
            let http = try #require(span.http)
            #expect(http.method == "GET")
            #expect(http.path == "/hello.txt")
            #expect(http.statusCode == 200)
            #expect(http.responseBodySize == 1234)
            #expect(http.requestBodySize == 0)
            #expect(span.local.port == 18501)
            #expect(span.local.host == "127.0.0.1")
            #expect(span.pid == server.pid)
            #expect(span.executable?.contains("python") == true)
            #expect(span.name == "GET")
            let client = try #require(clientSpans.first)
            #expect(client.pid == curl.pid)
            #expect(client.peer.port == 18501)
            #expect(client.local.port == span.peer.port)
            #expect(client.http?.statusCode == 200)
            #expect(client.http?.responseBodySize == 1234)
            let wallNanos = UInt64(wall.components.seconds) * 1_000_000_000 + UInt64(wall.components.attoseconds / 1_000_000_000)
            #expect(span.durationNanos > 0 && span.durationNanos <= wallNanos)
            #expect(client.durationNanos > 0 && client.durationNanos <= wallNanos)
            // The server span lies inside the client span (same clock, same connection).
            #expect(client.startTimeUnixNano <= span.startTimeUnixNano)
            #expect(span.endTimeUnixNano <= client.endTimeUnixNano)
            let now = UInt64(Date().timeIntervalSince1970 * 1e9)
            #expect(span.startTimeUnixNano < now && now - span.startTimeUnixNano < 60_000_000_000)
        }

        @Test func thousandKeepAliveAndPipelinedRequestsThroughNginxGiveExactlyThousandSpans() async throws {
            let directory = try TemporaryDirectory()
            let nginx = try startNginx(in: directory, port: 18502, httpBlock: """
                server {
                    listen 127.0.0.1:18502;
                    location / { return 200 "hello from nginx\\n"; }
                }
                """)
            let harness = try await AgentHarness(policy: """
                executables: ["nginx"]
                ports: [18502]
                """)

            // 10 keep-alive connections × 100 requests; half of them send batches of 5 pipelined requests.
            for connection in 0..<10 {
                let client = try TCPClient(port: 18502)
                let batch = connection % 2 == 0 ? 1 : 5
                for first in stride(from: 0, to: 100, by: batch) {
                    let requests = (first..<(first + batch)).map {
                        "GET /c\(connection)/r\($0) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: periscope-test\r\n\r\n"
                    }
                    try client.send(requests.joined())
                    _ = try client.receive(untilSeeing: "hello from nginx\n", times: batch)
                }
            }
            let spans = try await harness.waitForSpans(count: 1000, timeout: .seconds(20)) { $0.kind == .server }
            try await Task.sleep(for: .milliseconds(500))
            let final = harness.spans.filter { $0.kind == .server }
            try await harness.stop()
            let metrics = harness.agent.control.metrics

            #expect(spans.count == 1000)
            #expect(final.count == 1000)
            #expect(Set(final.compactMap { $0.http?.path }).count == 1000, "every request exactly once")
            #expect(final.allSatisfy { $0.http?.statusCode == 200 && $0.http?.responseBodySize == 17 })
            #expect(final.allSatisfy { $0.executable?.hasSuffix("nginx") == true && $0.pid != nginx.pid })
            #expect(metrics.spansEmitted == 1000)
            #expect(metrics.eventsLost == 0)
            #expect(metrics.decodeErrors == 0)
            #expect(metrics.eventsRead >= 2000)
            #expect(metrics.processesAttached == 2, "nginx master and worker")
        }
    }
}
