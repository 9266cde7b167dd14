import Foundation
import PeriscopeTestSupport
import Testing

/// Protocols beyond HTTP/1 through the real agent, with real peers on both ends.
extension KernelTests {
    @Suite struct AgentProtocolTests {
        /// nghttpd and curl speaking HTTP/2 by prior knowledge: one client and one server span
        /// per stream, version 2, linked across the connection.
        @Test func http2StreamsGiveLinkedSpansOnBothEnds() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", String(repeating: "h2", count: 500))
            let server = try TestProcess("nghttpd", ["--no-tls", "-d", site.path, "\(testPort(18531))"])
            defer { server.stop() }
            try waitForPort(testPort(18531))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18531))]\n")
            for path in ["/index.html", "/index.html?again=1", "/missing"] {
                try run("curl", ["-s", "-o", "/dev/null", "--http2-prior-knowledge", "http://127.0.0.1:\(testPort(18531))\(path)"])
            }
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            #expect(all.count == 6, "three streams, each seen by curl and by nghttpd: \(all.map(\.name))")
            #expect(spans.allSatisfy { $0.string("network.protocol.version") == "2" })
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(servers.count == 3 && clients.count == 3)
            #expect(servers.allSatisfy { $0.pid == server.pid })
            #expect(Set(servers.compactMap { $0.int("http.response.status_code") }) == [200, 404])
            #expect(servers.filter { $0.path == "/index.html" }.allSatisfy { $0.int("http.response.body.size") == 1000 })
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent != nil && parent?.traceID == span.traceID && parent?.path == span.path, "\(span.path ?? "?") is its client's child")
            }
        }
    }
}
