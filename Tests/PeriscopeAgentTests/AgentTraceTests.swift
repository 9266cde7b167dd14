import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    /// curl → nginx → haproxy → python on this node, traced as one trace per request.
    @Suite struct AgentTraceTests {
        /// An http.server backend answering `ok` to every GET, one thread per connection.
        static let backend = """
            import sys, http.server
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    body = b"ok\\n"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
            """

        /// Accepts connections and reads requests, never answers.
        static let blackhole = """
            import socket, sys, threading, time
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
            held = []
            def serve(c):
                while c.recv(65536): pass
            while True:
                c, _ = s.accept(); held.append(c)
                threading.Thread(target=serve, args=(c,), daemon=True).start()
            """

        /// The chain's processes, stopped when the value goes away.
        struct Chain {
            let directory: TemporaryDirectory
            let backend: TestProcess
            let haproxy: TestProcess
            let nginx: TestProcess
            let front: UInt16

            init(base: UInt16, haproxyMode: String = "http", backendScript: String = AgentTraceTests.backend, nginxExtra: String = "") throws {
                directory = try TemporaryDirectory()
                backend = try TestProcess("python3", ["-c", backendScript, "\(base + 2)"])
                try waitForPort(base + 2, of: backend)
                haproxy = try startHAProxy(in: directory, port: base + 1, body: """
                    listen relay
                        mode \(haproxyMode)
                        bind 127.0.0.1:\(base + 1)
                        server backend 127.0.0.1:\(base + 2)
                    """)
                nginx = try startNginx(in: directory, port: base, httpBlock: """
                    server {
                        listen 127.0.0.1:\(base);
                        location / { proxy_pass http://127.0.0.1:\(base + 1); \(nginxExtra) }
                    }
                    """)
                front = base
            }

            var policy: String { "ports: [\(front), \(front + 1), \(front + 2)]\n" }
        }

        /// (pid, kind) of each span's parent, by span id.
        static func parents(_ spans: [PrintedSpan]) -> [String: PrintedSpan] {
            let byID = Dictionary(spans.map { ($0.spanID, $0) }, uniquingKeysWith: { a, _ in a })
            var result: [String: PrintedSpan] = [:]
            for span in spans { if let parent = span.parentSpanID.flatMap({ byID[$0] }) { result[span.spanID] = parent } }
            return result
        }

        /// Each hop's span has the expected parent, and lies inside it.
        static func expectChainNesting(_ spans: [PrintedSpan], intervals: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let parents = Self.parents(spans)
            func hop(_ name: String, server: Bool) throws -> PrintedSpan {
                try #require(spans.first { $0.executable.contains(name) && $0.isServer == server }, "a \(server ? "server" : "client") span of \(name)", sourceLocation: sourceLocation)
            }
            let pairs = [
                (try hop("nginx", server: true), try hop("curl", server: false)),
                (try hop("nginx", server: false), try hop("nginx", server: true)),
                (try hop("haproxy", server: true), try hop("nginx", server: false)),
                (try hop("haproxy", server: false), try hop("haproxy", server: true)),
                (try hop("python", server: true), try hop("haproxy", server: false)),
            ]
            for (child, expected) in pairs {
                let parent = parents[child.spanID]
                #expect(parent?.spanID == expected.spanID,
                        "\(child.kind) of \(child.executable) has parent \(parent.map { "\($0.kind) of \($0.executable)" } ?? "none")", sourceLocation: sourceLocation)
                #expect(!intervals || expected.start <= child.start && child.end <= expected.end,
                        "\(child.kind) of \(child.executable) [\(child.start), \(child.end)] inside [\(expected.start), \(expected.end)]", sourceLocation: sourceLocation)
            }
        }

        @Test func requestThroughNginxAndHAProxyIsOneTraceWithEachHopNestedInItsCaller() async throws {
            let chain = try Chain(base: testPort(18800))
            let agent = try await AgentHarness(policy: chain.policy)
            let curl = try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18800))/chain/1"])
            curl.wait()
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(15)) { $0.path == "/chain/1" }
            try agent.stop()

            #expect(spans.count == 6)
            #expect(Set(spans.map(\.traceID)).count == 1, "one trace")
            let root = try #require(spans.first { $0.pid == curl.pid })
            #expect(root.isClient && root.parentSpanID == nil)
            try Self.expectChainNesting(spans)
        }
        @Test func haproxyInTCPModeAppearsAsConnectionSpansInsideTheSameTrace() async throws {
            let chain = try Chain(base: testPort(18830), haproxyMode: "tcp")
            // haproxy relays bytes: its own policy, first in the file, runs only the TCP decoder.
            let agent = try await AgentHarness(policy: """
                executables: ["*haproxy*"]
                protocols: [tcp]
                ports: [\(testPort(18831)), \(testPort(18832))]
                ---
                \(chain.policy)
                """)
            let curl = try TestProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{size_download}", "http://127.0.0.1:\(testPort(18830))/l4/1"])
            curl.wait()
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(15)) { $0.path == "/l4/1" || $0.executable.contains("haproxy") }
            try agent.stop()

            #expect(spans.count == 6)
            #expect(Set(spans.map(\.traceID)).count == 1, "one trace")
            let relay = spans.filter { $0.executable.contains("haproxy") }
            #expect(relay.count == 2 && relay.allSatisfy { $0.isTCP && !$0.isHTTP }, "haproxy shows connection spans")
            #expect(spans.filter(\.isHTTP).count == 4)
            let inbound = try #require(relay.first { $0.isServer })
            let outbound = try #require(relay.first { $0.isClient })
            #expect(inbound.bytesSent == outbound.bytesReceived && inbound.bytesReceived == outbound.bytesSent, "the relay passes every byte")
            #expect((inbound.bytesReceived ?? 0) > 0)
            // Connection spans last as long as the connection, so only the HTTP hops nest in time.
            try Self.expectChainNesting(spans, intervals: false)
            let parents = Self.parents(spans)
            for span in spans where span.isHTTP {
                if let parent = parents[span.spanID], parent.isHTTP {
                    #expect(parent.start <= span.start && span.end <= parent.end, "\(span.kind) of \(span.executable) inside its parent")
                }
            }
        }

        @Test func twoClientsInterleavingTwoHundredRequestsEachNeverShareATrace() async throws {
            let chain = try Chain(base: testPort(18810))
            let agent = try await AgentHarness(policy: chain.policy, arguments: AgentHarness.burstArguments)
            let clients = try (0..<2).map { client in
                try TestProcess("curl", ["-s"] + (0..<200).map { "http://127.0.0.1:\(testPort(18810))/c\(client)/r\($0)" })
            }
            for client in clients { client.wait() }
            _ = try await agent.waitForSpans(count: 2400, timeout: .seconds(60)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter { $0.path?.hasPrefix("/c") == true }

            #expect(spans.count == 2400, "\(AgentHarness.burstMetrics(metrics))")
            #expect(metrics["events_lost"] == 0 && metrics["events_shed"] == 0, "\(AgentHarness.burstMetrics(metrics))")
            #expect(metrics["callers_missed"] == 0, "\(AgentHarness.burstMetrics(metrics))")
            let byPath = Dictionary(grouping: spans) { $0.path ?? "" }
            #expect(byPath.count == 400)
            for (path, hops) in byPath {
                #expect(hops.count == 6, "\(path): server and client span per hop")
                #expect(Set(hops.map(\.traceID)).count == 1, "\(path) is one trace")
            }
            let byTrace = Dictionary(grouping: spans, by: \.traceID)
            #expect(byTrace.count == 400)
            for (trace, members) in byTrace {
                #expect(Set(members.compactMap(\.path)).count == 1, "trace \(trace) holds one request")
                #expect(members.filter { $0.parentSpanID == nil }.count == 1, "trace \(trace) has one root")
            }
            // Every request, each hop inside its caller: the first request of each of nginx's
            // connections to haproxy is written before haproxy's accept is seen.
            for hops in byPath.values {
                try Self.expectChainNesting(hops)
            }
        }

        @Test func incomingTraceparentKeepsItsTraceIDFromCurlToTheBackend() async throws {
            let chain = try Chain(base: testPort(18820))
            let agent = try await AgentHarness(policy: chain.policy)
            let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
            try run("curl", ["-s", "-o", "/dev/null", "-H", "traceparent: 00-\(traceID)-00f067aa0ba902b7-01", "http://127.0.0.1:\(testPort(18820))/tp"])
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(15)) { $0.path == "/tp" }
            try agent.stop()
            #expect(spans.count == 6)
            #expect(spans.allSatisfy { $0.traceID == traceID })
            let root = try #require(spans.first { $0.executable.contains("curl") })
            #expect(root.parentSpanID == "00f067aa0ba902b7")
            #expect(Set(spans.map(\.spanID)).count == 6)
            try Self.expectChainNesting(spans)
        }

        @Test func backendThatNeverAnswersStillGivesErrorSpansAsSoonAsTheyEndWhileTheirCallersWait() async throws {
            let chain = try Chain(base: testPort(18840), backendScript: Self.blackhole, nginxExtra: "proxy_read_timeout 1s;")
            let agent = try await AgentHarness(policy: chain.policy)
            // Clients that send and never read: their own spans never finish.
            let clients = try TestProcess("python3", ["-c", """
                import socket, time
                held = []
                for i in range(6):
                    s = socket.create_connection(("127.0.0.1", \(testPort(18840))))
                    s.sendall(f"GET /hang/{i} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())
                    held.append(s)
                time.sleep(60)
                """])
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(10)) {
                $0.isServer && $0.executable.contains("nginx") && $0.path?.hasPrefix("/hang/") == true
            }
            #expect(clients.isRunning, "the callers are still waiting")
            #expect(spans.count == 6)
            #expect(spans.allSatisfy { $0.status == "STATUS_CODE_ERROR" && $0.statusCode == 504 })
            let calls = try agent.spans.filter { $0.isClient && $0.executable.contains("nginx") }
            #expect(calls.count == 6 && calls.allSatisfy { $0.status == "STATUS_CODE_ERROR" })
            for span in spans {
                #expect(calls.contains { $0.parentSpanID == span.spanID && $0.traceID == span.traceID }, "nginx's call is in its request's trace")
            }
            clients.stop()
            let metrics = try agent.stop()
            #expect(metrics["spans_waiting"] == 0, "nothing is held")
            #expect(metrics["callers_missed"] == 0)
        }

        @Test func treeOutputPrintsTheChainIndentedWithSelfAndWaitingTime() async throws {
            let chain = try Chain(base: testPort(18850))
            let agent = try await AgentHarness(policy: chain.policy, arguments: ["--output", "tree"])
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18850))/tree"])
            let deadline = ContinuousClock.now + .seconds(15)
            while agent.process.log.split(separator: "\n").count < 7, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            try agent.stop()
            let lines = agent.process.log.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("trace ") == true && lines.first?.contains("6 spans") == true, "\(lines)")
            let expected = [("CLIENT GET /tree", "curl["), ("  SERVER GET /tree", "nginx["), ("    CLIENT GET /tree", "nginx["),
                            ("      SERVER GET /tree", "haproxy["), ("        CLIENT GET /tree", "haproxy["), ("          SERVER GET /tree", "python")]
            #expect(lines.count >= 7)
            for (line, (prefix, process)) in zip(lines.dropFirst(), expected) {
                #expect(line.hasPrefix(prefix + "  ") && line.contains(process) && line.contains(" ms  self ") && line.contains(" ms  waiting "), "\(line)")
            }
        }
    }
}
