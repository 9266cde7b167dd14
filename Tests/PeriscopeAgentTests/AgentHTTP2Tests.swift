import Foundation
import PeriscopeTestSupport
import Testing

/// HTTP/2 and gRPC through the real agent, real peers on both ends: nghttp2's h2load and
/// nghttpd (Debian), hypercorn, httpx and grpcio (PyPI, in hack/setup.sh's environment).
extension KernelTests {
    @Suite struct AgentHTTP2Tests {
        /// Python with hypercorn, httpx and grpcio (hack/setup.sh).
        static let python = "/opt/periscope/venv/bin/python"
        /// hack/http2-peers: the ASGI application and the clients the tests run.
        static let peers: String = {
            var url = URL(fileURLWithPath: #filePath)
            for _ in 0..<3 { url.deleteLastPathComponent() }
            return url.appendingPathComponent("hack/http2-peers").path
        }()

        static func startHypercorn(port: UInt16) throws -> TestProcess {
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw TestFailure("\(python) is missing: run hack/setup.sh (it installs hypercorn, httpx and grpcio)")
            }
            let server = try TestProcess(python, ["-m", "hypercorn", "--bind", "127.0.0.1:\(port)", "--keep-alive", "300", "asgi_app:app"], environment: ["PYTHONPATH": peers])
            try waitForPort(port, of: server)
            return server
        }

        /// Every server span's parent is a client span of the same trace with the same path.
        static func expectLinked(_ servers: [PrintedSpan], to clients: [PrintedSpan], metrics: [String: Int] = [:], sourceLocation: SourceLocation = #_sourceLocation) {
            let byID = Dictionary(clients.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            let unlinked = servers.filter { span in
                guard let parent = span.parentSpanID.flatMap({ byID[$0] }) else { return true }
                return parent.traceID != span.traceID || parent.path != span.path
            }
            #expect(unlinked.isEmpty, "\(unlinked.count) of \(servers.count) server spans without their client span as parent; \(AgentHarness.burstMetrics(metrics)) \(unlinked.map { "\($0.path ?? "-") parent \($0.parentSpanID ?? "none") at \($0.start)" })", sourceLocation: sourceLocation)
        }

        /// h2load, 1,000 requests on 10 connections with 10 streams in flight on each, against
        /// nghttpd: exactly 1,000 client and 1,000 server spans, each exact, each server span the
        /// child of its client span. At the default capture (2 KiB): ten streams answered at
        /// once are written and read together, 3 KB bodies each, so most frame headers and
        /// header blocks are past the captured prefix and reach the decoder through the
        /// kernel's frame walk.
        @Test func h2loadThousandStreamsGiveThousandLinkedSpansOnEachEnd() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", String(repeating: "h2load ", count: 430))
            let server = try TestProcess("nghttpd", ["--no-tls", "-d", site.path, "\(testPort(18561))"])
            defer { server.stop() }
            try waitForPort(testPort(18561))
            // h2load writes about 10 MB of events in a fraction of a second: more than half the
            // default ring buffer whenever the agent waits for a CPU meanwhile.
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18561))]\n", arguments: AgentHarness.burstArguments)
            let report = try run("h2load", ["-n", "1000", "-c", "10", "-m", "10", "http://127.0.0.1:\(testPort(18561))/index.html"])
            #expect(report.contains("1000 succeeded"), "h2load: \(report)")
            try await agent.waitForSpans(count: 2000, timeout: .seconds(60)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(
                servers.count == 1000 && clients.count == 1000,
                "\(servers.count) server and \(clients.count) client spans; \(AgentHarness.burstMetrics(metrics))")
            #expect(servers.allSatisfy { $0.pid == server.pid })
            let exact = all.filter {
                $0.method == "GET" && $0.path == "/index.html" && $0.statusCode == 200 && $0.responseBodySize == 3010
                    && $0.requestBodySize == 0 && $0.string("network.protocol.version") == "2" && $0.status == "STATUS_CODE_UNSET"
            }
            #expect(exact.count == all.count, "\(all.count - exact.count) spans differ, e.g. \(all.first { s in !exact.contains { $0.spanID == s.spanID } }.map { "\($0.name) \($0.path ?? "?") \($0.statusCode ?? 0) \($0.responseBodySize ?? -1)" } ?? "")")
            #expect(Set(servers.compactMap { $0.peerPort }).count == 10, "10 connections")
            Self.expectLinked(servers, to: clients)
            #expect(metrics["callers_missed"] == 0, "\(AgentHarness.burstMetrics(metrics))")
            #expect(metrics["decode_errors"] == 0, "\(agent.process.errorLog.split(separator: "\n").filter { $0.contains("decode") || $0.contains("lost") })")
        }

        /// hypercorn and httpx by prior knowledge on one connection: both ends of each stream in
        /// one trace; a POST's body sizes; a 503 is the server's error.
        @Test func hypercornAndHttpxGiveLinkedSpans() async throws {
            let server = try Self.startHypercorn(port: testPort(18562))
            defer { server.stop() }
            // The POST's 3,000-byte body and the frame ending it are written at once, past the
            // default capture: the frame walk keeps the decoder in step.
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18562))]\n")
            let printed = try run(Self.python, ["\(Self.peers)/httpx_client.py", "http://127.0.0.1:\(testPort(18562))"])
            #expect(printed.split(separator: "\n") == ["200", "200", "503"], "httpx printed \(printed)")
            try await agent.waitForSpans(count: 6, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(servers.count == 3 && clients.count == 3, "\(all.map { "\($0.kind) \($0.path ?? "?")" })")
            let summary = { (span: PrintedSpan) in
                "\(span.method ?? "?") \(span.path ?? "?") \(span.statusCode ?? 0) \(span.requestBodySize ?? -1)/\(span.responseBodySize ?? -1)"
            }
            let expected = ["GET /hello 200 0/21", "POST /echo 200 3000/3000", "GET /status/503 503 0/7"]
            #expect(servers.sorted { $0.start < $1.start }.map(summary) == expected)
            #expect(clients.sorted { $0.start < $1.start }.map(summary) == expected)
            #expect(clients.first { $0.path == "/status/503" }?.status == "STATUS_CODE_ERROR", "a 5xx is the client's error too")
            #expect(all.allSatisfy { $0.string("network.protocol.version") == "2" && $0.string("user_agent.original")?.hasPrefix("python-httpx/") == true })
            #expect(servers.first { $0.path == "/status/503" }?.status == "STATUS_CODE_ERROR")
            #expect(Set(all.filter { $0.path == "/hello" }.map(\.traceID)).count == 1, "both ends of /hello in one trace")
            Self.expectLinked(servers, to: clients)
            #expect(metrics["decode_errors"] == 0)
        }

        /// curl `--http2` asks hypercorn to upgrade (`Upgrade: h2c`): the request is answered
        /// as HTTP/2 stream 1, one span on each end, and the `101` gives none.
        @Test func curlUpgradeToH2cGivesOneSpanPerEnd() async throws {
            let server = try Self.startHypercorn(port: testPort(18563))
            defer { server.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18563))]\n")
            let body = try run("curl", ["-s", "--http2", "http://127.0.0.1:\(testPort(18563))/hello", "http://127.0.0.1:\(testPort(18563))/status/202"])
            #expect(body.hasPrefix("hello from hypercorn"), "curl printed \(body)")
            try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(servers.count == 2 && clients.count == 2, "\(all.map { "\($0.kind) \($0.path ?? "?") \($0.statusCode ?? 0)" })")
            #expect(servers.sorted { $0.start < $1.start }.map { "\($0.path ?? "?") \($0.statusCode ?? 0) \($0.responseBodySize ?? -1)" } == [
                "/hello 200 21", "/status/202 202 7",
            ])
            #expect(all.allSatisfy { $0.string("network.protocol.version") == "2" && $0.method == "GET" })
            Self.expectLinked(servers, to: clients)
            #expect(metrics["decode_errors"] == 0)
        }

        /// grpcio unary, server-streaming, an error status and an unimplemented method: one
        /// span per RPC on each end, named `package.Service/Method`, with the `rpc.*`
        /// attributes and the server's error only where the conventions say so.
        @Test func grpcioCallsGiveRPCSpansOnBothEnds() async throws {
            guard FileManager.default.isExecutableFile(atPath: Self.python) else {
                throw TestFailure("\(Self.python) is missing: run hack/setup.sh")
            }
            let server = try TestProcess(Self.python, ["\(Self.peers)/grpc_peers.py", "serve", "\(testPort(18564))"])
            defer { server.stop() }
            try waitForPort(testPort(18564), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18564))]\nprotocols: [grpc]\n")
            let printed = try run(Self.python, ["\(Self.peers)/grpc_peers.py", "call", "\(testPort(18564))"])
            #expect(printed.contains("StatusCode.NOT_FOUND") && printed.contains("StatusCode.UNIMPLEMENTED"), "the client printed \(printed)")
            let rpcs = try await agent.waitForSpans(count: 8, timeout: .seconds(15)) { $0.string("rpc.system") == "grpc" }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            #expect(rpcs.count == 8, "\(rpcs.map { "\($0.kind) \($0.name)" })")
            let servers = rpcs.filter(\.isServer).sorted { $0.start < $1.start }
            let clients = rpcs.filter(\.isClient).sorted { $0.start < $1.start }
            let names = ["helloworld.Greeter/SayHello", "routeguide.RouteGuide/ListFeatures", "helloworld.Greeter/Fail", "helloworld.Greeter/Missing"]
            #expect(servers.map(\.name) == names && clients.map(\.name) == names)
            for spans in [servers, clients] {
                #expect(spans.map { $0.int("rpc.grpc.status_code") } == [0, 0, 5, 12])
                #expect(spans.map { $0.string("rpc.service") } == ["helloworld.Greeter", "routeguide.RouteGuide", "helloworld.Greeter", "helloworld.Greeter"])
                #expect(spans.map { $0.string("rpc.method") } == ["SayHello", "ListFeatures", "Fail", "Missing"])
                #expect(spans.map { $0.int("rpc.grpc.response.message_count") } == [1, 5, 0, 0])
            }
            #expect(servers.map(\.status) == ["STATUS_CODE_UNSET", "STATUS_CODE_UNSET", "STATUS_CODE_UNSET", "STATUS_CODE_ERROR"])
            #expect(clients.map(\.status) == ["STATUS_CODE_UNSET", "STATUS_CODE_UNSET", "STATUS_CODE_ERROR", "STATUS_CODE_ERROR"])
            #expect(servers.allSatisfy { $0.pid == server.pid })
            let byID = Dictionary(clients.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            for span in servers {
                let parent = span.parentSpanID.flatMap { byID[$0] }
                #expect(parent?.traceID == span.traceID && parent?.name == span.name, "\(span.name) is its client's child")
            }
            #expect(metrics["decode_errors"] == 0)
        }

        /// grpcio server streaming of five 3 KB messages per call, ten calls on one channel, at
        /// the default capture (2 KiB): each reply's frames are written at once, its header
        /// blocks and DATA frames' message prefixes past the capture reach the decoder through
        /// the kernel's frame walk. Exact spans on both ends, five messages each, linked.
        @Test func grpcioStreamingOfMessagesLargerThanTheCaptureStaysExact() async throws {
            guard FileManager.default.isExecutableFile(atPath: Self.python) else {
                throw TestFailure("\(Self.python) is missing: run hack/setup.sh")
            }
            let server = try TestProcess(Self.python, ["\(Self.peers)/grpc_peers.py", "serve", "\(testPort(18569))"])
            defer { server.stop() }
            try waitForPort(testPort(18569), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18569))]\nprotocols: [grpc]\n")
            let printed = try run(Self.python, ["\(Self.peers)/grpc_peers.py", "call-large", "\(testPort(18569))", "10"])
            #expect(printed.split(separator: "\n").map(String.init) == Array(repeating: "5 14845", count: 10), "the client printed \(printed)")
            let rpcs = try await agent.waitForSpans(count: 20, timeout: .seconds(15)) { $0.string("rpc.system") == "grpc" }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            #expect(rpcs.count == 20, "\(rpcs.map { "\($0.kind) \($0.name)" })")
            let servers = rpcs.filter(\.isServer), clients = rpcs.filter(\.isClient)
            #expect(servers.count == 10 && clients.count == 10)
            #expect(rpcs.allSatisfy {
                $0.name == "routeguide.RouteGuide/ListLargeFeatures" && $0.int("rpc.grpc.status_code") == 0
                    && $0.int("rpc.grpc.response.message_count") == 5 && $0.status == "STATUS_CODE_UNSET"
            }, "\(rpcs.map { "\($0.kind) \($0.name) \($0.int("rpc.grpc.status_code") ?? -1) \($0.int("rpc.grpc.response.message_count") ?? -1)" })")
            let byID = Dictionary(clients.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(servers.allSatisfy { span in span.parentSpanID.flatMap { byID[$0] }?.traceID == span.traceID }, "every server span is its client's child")
            #expect(metrics["decode_errors"] == 0)
        }

        /// HTTP/2 over TLS (ALPN `h2`): nginx with `http2` on its TLS listener, curl `--http2`
        /// and h2load. Plaintext read at OpenSSL reaches the HTTP/2 decoder: exact spans on
        /// both ends, `https`, each server span the child of its client's.
        @Test func http2OverTLSGivesExactLinkedSpansOnBothEnds() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            // The upload is answered once its body is read (echo module, nginx-light's), so
            // that both ends see the whole body before the answer.
            let nginx = try startNginx(in: directory, port: testPort(18566), main: "load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;", httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18566)) ssl http2;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location /hello { return 200 "hello over h2\\n"; }
                    location /upload { echo_read_request_body; echo_status 201; echo "stored"; }
                }
                """)
            defer { nginx.stop() }
            // A burst (h2load): the ring buffer and reorder window of the other burst tests.
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18566))]\nprotocols: [http]\n", arguments: AgentHarness.burstArguments)
            try await agent.waitForLog("tls.probed")
            let version = try run("curl", ["-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version}", "https://127.0.0.1:\(testPort(18566))/hello"])
            #expect(version == "2", "curl spoke HTTP/\(version)")
            _ = try run("curl", ["-sk", "--http2", "-o", "/dev/null", "-d", "twelve bytes", "https://127.0.0.1:\(testPort(18566))/upload"])
            let report = try run("h2load", ["-n", "100", "-c", "2", "-m", "5", "https://127.0.0.1:\(testPort(18566))/hello"])
            #expect(report.contains("Application protocol: h2") && report.contains("100 succeeded"), "h2load: \(report)")
            try await agent.waitForSpans(count: 204, timeout: .seconds(30)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(servers.count == 102 && clients.count == 102, "\(servers.count) server and \(clients.count) client spans")
            #expect(servers.allSatisfy { $0.executable == "/usr/sbin/nginx" })
            #expect(clients.filter { $0.executable.hasSuffix("/curl") }.count == 2 && clients.filter { $0.executable.hasSuffix("/h2load") }.count == 100)
            #expect(all.allSatisfy { $0.string("url.scheme") == "https" && $0.string("network.protocol.version") == "2" && $0.status == "STATUS_CODE_UNSET" })
            for span in all {
                switch span.path {
                case "/hello":
                    #expect(span.method == "GET" && span.statusCode == 200 && span.requestBodySize == 0 && span.responseBodySize == 14)
                case "/upload":
                    #expect(span.method == "POST" && span.statusCode == 201 && span.requestBodySize == 12 && span.responseBodySize == 7,
                            "\(span.kind) \(span.method ?? "?") \(span.statusCode ?? 0) \(span.requestBodySize ?? -1)/\(span.responseBodySize ?? -1) \(span.status)")
                default:
                    Issue.record("unexpected span \(span.kind) \(span.name) \(span.path ?? "-")")
                }
            }
            Self.expectLinked(servers, to: clients, metrics: metrics)
            #expect(metrics["decode_errors"] == 0, "records are never decoded")
        }

        /// HTTP/2 over TLS with bodies much larger than the capture: nginx writes its frames
        /// through a 16 KiB buffer, so each SSL_write cuts DATA frames anywhere and the client's
        /// SSL_read returns one record's plaintext at a time. The kernel walks the frame headers
        /// of TLS plaintext as it does a socket's: 20,000- and 300,000-byte answers to curl and
        /// httpx (both through OpenSSL) are exact on both ends.
        @Test func http2OverTLSBodiesLargerThanTheCaptureAreExactOnBothEnds() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let sizes = [20_000, 300_000]
            for size in sizes { _ = try directory.write("body\(size)", String(repeating: "b", count: size)) }
            let nginx = try startNginx(in: directory, port: testPort(18611), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18611)) ssl http2;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    root \(directory.path);
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18611))]\nprotocols: [http]\n")
            try await agent.waitForLog("tls.probed")
            for size in sizes {
                let written = try run("curl", ["-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{size_download}", "https://127.0.0.1:\(testPort(18611))/body\(size)"])
                #expect(written == "2 \(size)", "curl: \(written)")
            }
            let printed = try run(Self.python, ["\(Self.peers)/httpx_bodies.py", "https://127.0.0.1:\(testPort(18611))"] + sizes.map { "/body\($0)" })
            #expect(printed.split(separator: "\n").map(String.init) == sizes.map { "200 \($0) HTTP/2" }, "httpx printed \(printed)")
            try await agent.waitForSpans(count: 8, timeout: .seconds(30)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(servers.count == 4 && clients.count == 4, "\(servers.count) server and \(clients.count) client spans")
            #expect(servers.allSatisfy { $0.executable == "/usr/sbin/nginx" })
            #expect(clients.filter { $0.executable.hasSuffix("/curl") }.count == 2 && clients.filter { $0.executable.contains("python") }.count == 2)
            for span in all {
                let size = Int(span.path?.dropFirst("/body".count) ?? "") ?? -1
                #expect(sizes.contains(size) && span.method == "GET" && span.statusCode == 200 && span.responseBodySize == size
                            && span.requestBodySize == 0 && span.string("url.scheme") == "https"
                            && span.string("network.protocol.version") == "2" && span.status == "STATUS_CODE_UNSET",
                        "\(span.kind) \(span.path ?? "-") \(span.statusCode ?? 0) \(span.responseBodySize ?? -1) \(span.status)")
            }
            Self.expectLinked(servers, to: clients)
            #expect(metrics["decode_errors"] == 0, "\(agent.process.errorLog.split(separator: "\n").filter { $0.contains("decode") || $0.contains("lost") })")
        }

        /// A connection opened before the agent started: its HPACK tables were filled
        /// unseen. A request whose headers all come from them gives no span and is counted; a
        /// request written with literals gives its spans on both ends, nothing invented.
        @Test func connectionOpenedBeforeTheAgentStarted() async throws {
            let server = try Self.startHypercorn(port: testPort(18565))
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            let go = "\(directory.path)/go"
            let client = try TestProcess(Self.python, ["\(Self.peers)/httpx_reused.py", "http://127.0.0.1:\(testPort(18565))", go])
            defer { client.stop() }
            let deadline = ContinuousClock.now + .seconds(15)
            while !client.log.contains("first") {
                guard ContinuousClock.now < deadline, client.isRunning else { throw TestFailure("the client did not finish its first request:\n\(client.log)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18565))]\n")
            _ = try directory.write("go", "")
            #expect(client.wait() == 0)
            #expect(client.log.split(separator: "\n") == ["200", "first", "200", "201"], "the client printed \(client.log)")
            try await agent.waitForSpans(count: 2, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(500))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            #expect(all.count == 2, "\(all.map { "\($0.kind) \($0.path ?? "?") \($0.statusCode ?? 0)" })")
            #expect(all.allSatisfy { $0.method == "GET" && $0.path == "/status/201" && $0.statusCode == 201 && $0.string("network.protocol.version") == "2" })
            #expect(all.filter(\.isServer).count == 1 && all.filter(\.isClient).count == 1)
            #expect(metrics["decode_errors"] == 2, "the repeated request, unreadable on each end: \(metrics)")
            #expect(metrics["decode_errors{protocol=\"http2\",reason=\"hpack_unknown_table_entry\"}"] == 2)
        }
    }
}
