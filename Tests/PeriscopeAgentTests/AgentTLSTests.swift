import Foundation
import PeriscopeTestSupport
import Testing

/// TLS through the real agent: plaintext read at OpenSSL by uprobes, real servers and
/// clients from Debian on both ends.
extension KernelTests {
    @Suite struct AgentTLSTests {
        /// nginx serving HTTPS to curl and to python requests: one client and one server span
        /// per request, `https`, exact method, path, status and body sizes, each server span
        /// the child of its client's; the ciphertext is counted, never decoded.
        @Test func nginxHTTPSGivesExactSpansOnBothEndsForCurlAndPythonRequests() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let nginx = try startNginx(in: directory, port: testPort(18541), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18541)) ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location /hello { return 200 "hello over tls\\n"; }
                    location /upload { return 201 "stored\\n"; }
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18541))]\nprotocols: [http]\n")
            try await agent.waitForLog("tls.probed")
            _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18541))/hello"])
            _ = try run("curl", ["-sk", "-o", "/dev/null", "-d", "twelve bytes", "https://127.0.0.1:\(testPort(18541))/upload"])
            _ = try run("/usr/bin/python3", ["-c", """
                import requests, urllib3
                urllib3.disable_warnings()
                requests.get("https://127.0.0.1:\(testPort(18541))/hello?from=python", verify=False).raise_for_status()
                """])
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans.filter(\.isHTTP)
            #expect(all.count == 6, "three requests seen by both ends: \(all.map { "\($0.kind) \($0.name)" })")
            #expect(spans.allSatisfy { $0.string("url.scheme") == "https" })
            let servers = all.filter(\.isServer), clients = all.filter(\.isClient)
            #expect(servers.count == 3 && servers.allSatisfy { $0.executable == "/usr/sbin/nginx" })
            #expect(clients.filter { $0.executable.hasSuffix("/curl") }.count == 2)
            #expect(clients.filter { $0.executable.contains("python3") }.count == 1)
            for span in all {
                switch span.path {
                case "/hello":
                    #expect(span.method == "GET" && span.statusCode == 200 && span.requestBodySize == 0 && span.responseBodySize == 15)
                case "/upload":
                    #expect(span.method == "POST" && span.statusCode == 201 && span.requestBodySize == 12 && span.responseBodySize == 7)
                default:
                    Issue.record("unexpected span \(span.kind) \(span.name) \(span.path ?? "-")")
                }
            }
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent != nil && parent?.traceID == span.traceID && parent?.path == span.path, "\(span.path ?? "?") is its client's child")
            }
            #expect(metrics["decode_errors"] == 0, "records are never decoded")
            #expect((metrics["tls_plaintext_events"] ?? 0) >= 12 && (metrics["tls_record_transfers"] ?? 0) > 0)
        }

        /// curl → nginx over TLS → python's http.server in cleartext, with no context written
        /// into traffic: one trace of four spans, each the child of the one before, linked by
        /// the agent alone.
        @Test func httpsThroughNginxToAPlaintextBackendIsOneTrace() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            _ = try directory.write("site/page.txt", String(repeating: "p", count: 321))
            let backend = try startPythonServer(port: testPort(18543), directory: "\(directory.path)/site", executable: "/usr/bin/python3")
            defer { backend.stop() }
            let nginx = try startNginx(in: directory, port: testPort(18542), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18542)) ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location / { proxy_pass http://127.0.0.1:\(testPort(18543)); }
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18542)), \(testPort(18543))]\nprotocols: [http]\npropagation: none\n")
            try await agent.waitForLog("tls.probed")
            _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18542))/page.txt"])
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name)" })")
            #expect(Set(spans.map(\.traceID)).count == 1, "one trace")
            let curl = spans.first { $0.isClient && $0.executable.hasSuffix("/curl") }
            // nginx's worker, a child of the process started.
            let front = spans.first { $0.isServer && $0.executable == "/usr/sbin/nginx" }
            let forward = spans.first { $0.isClient && $0.executable == "/usr/sbin/nginx" }
            let back = spans.first { $0.isServer && $0.pid == backend.pid }
            #expect(curl?.string("url.scheme") == "https" && front?.string("url.scheme") == "https")
            #expect(forward?.string("url.scheme") == "http" && back?.string("url.scheme") == "http")
            #expect(curl?.parentSpanID == nil)
            #expect(front?.parentSpanID == curl?.spanID && front != nil)
            #expect(forward?.parentSpanID == front?.spanID && forward != nil)
            #expect(back?.parentSpanID == forward?.spanID && back != nil)
            #expect(spans.allSatisfy { $0.path == "/page.txt" && $0.statusCode == 200 && $0.responseBodySize == 321 })
        }

        /// The same with context written into traffic (the default): three requests on one
        /// curl connection through nginx over TLS to a cleartext backend are three traces of four
        /// spans, and the `traceparent` nginx's forwarded request carries names nginx's client
        /// span: the kernel decided each request's context from its plaintext, as SSL_read
        /// returned it, not only from the first request's TCP header option.
        @Test func httpsThroughNginxToAPlaintextBackendIsOneTraceWithContextInTraffic() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let backend = try RecordingServer(port: testPort(18584), in: directory)
            let nginx = try startNginx(in: directory, port: testPort(18583), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18583)) ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location / { proxy_pass http://127.0.0.1:\(testPort(18584)); }
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18583)), \(testPort(18584))]\nprotocols: [http]\n")
            try await agent.waitForLog("tls.probed")
            let paths = ["/first", "/second", "/third"]
            _ = try runChecked("curl", ["-sk", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null"] + paths.map { "https://127.0.0.1:\(testPort(18583))\($0)" })
            let received = try await backend.waitForRequests(3)
            _ = try await agent.waitForSpans(count: 12, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 12, "\(spans.map { "\($0.kind) \($0.executable) \($0.name) \($0.path ?? "-")" })")
            let curlPorts = Set(spans.filter { $0.isClient && $0.executable.hasSuffix("/curl") }.compactMap(\.localPort))
            #expect(curlPorts.count == 1, "curl's three requests share one connection")
            for path in paths {
                let trace = spans.filter { $0.path == path }
                #expect(trace.count == 4 && Set(trace.map(\.traceID)).count == 1, "\(path): one trace of four spans")
                let curl = trace.first { $0.isClient && $0.executable.hasSuffix("/curl") }
                let front = trace.first { $0.isServer && $0.executable == "/usr/sbin/nginx" }
                let forward = trace.first { $0.isClient && $0.executable == "/usr/sbin/nginx" }
                let back = trace.first { $0.isServer && $0.pid == backend.process.pid }
                #expect(curl?.string("url.scheme") == "https" && front?.string("url.scheme") == "https")
                #expect(forward?.string("url.scheme") == "http" && back?.string("url.scheme") == "http")
                #expect(curl != nil && curl?.parentSpanID == nil)
                #expect(front != nil && front?.parentSpanID == curl?.spanID)
                #expect(forward != nil && forward?.parentSpanID == front?.spanID)
                #expect(back != nil && back?.parentSpanID == forward?.spanID)
                #expect(trace.allSatisfy { $0.statusCode == 200 && $0.responseBodySize == 2 })
                let request = received.first { $0.path == path }
                #expect(request?.traceparents.count == 1, "\(path): one traceparent, written by the kernel")
                let fields = request?.traceparents.first?.split(separator: "-").map(String.init) ?? []
                #expect(fields.count == 4 && fields[2] == forward?.spanID, "\(path): \(fields) names nginx's client span \(forward?.spanID ?? "-")")
            }
            #expect((metrics["propagation_headers_injected"] ?? 0) >= 3)
            #expect((metrics["propagation_server_contexts"] ?? 0) >= 6, "nginx's three from plaintext, the backend's three")
        }

        /// python's http.server wrapped in `ssl`, curl as the client: https spans on both ends.
        @Test func pythonSSLWrappedHTTPServerGivesHTTPSSpans() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            _ = try directory.write("site/data.json", "{\"ok\":true}")
            let script = try directory.write("serve.py", """
                import functools, http.server, ssl, sys
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
                server = http.server.HTTPServer(("127.0.0.1", \(testPort(18544))), handler)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                server.socket = context.wrap_socket(server.socket, server_side=True)
                server.serve_forever()
                """)
            let server = try TestProcess("/usr/bin/python3", [script, "\(directory.path)/site", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18544), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18544))]\nprotocols: [http]\n")
            try await agent.waitForLog("tls.probed")
            for _ in 0..<2 {
                _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18544))/data.json"])
            }
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name)" })")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 2 && servers.allSatisfy { $0.pid == server.pid })
            #expect(spans.allSatisfy {
                $0.string("url.scheme") == "https" && $0.path == "/data.json" && $0.statusCode == 200 && $0.responseBodySize == 11
            })
            for span in servers {
                #expect(clients.contains { $0.spanID == span.parentSpanID && $0.traceID == span.traceID })
            }
        }

        /// A chunked HTTPS response of several chunks and trailers written in one SSL_write
        /// larger than the capture, read by curl and python's requests: the plaintext's last
        /// bytes and its chunk headers past the 256 bytes captured make the body size exact.
        @Test func chunkedHTTPSBodyLargerThanTheCaptureIsExact() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let script = try directory.write("chunked.py", #"""
                import socket, ssl, sys, threading
                CHUNKS = (700, 1, 1500, 3000, 33)
                def serve(conn):
                    try:
                        while True:
                            data = b""
                            while b"\r\n\r\n" not in data:
                                more = conn.recv(65536)
                                if not more:
                                    return
                                data += more
                            body = b"".join(b"%x\r\n%s\r\n" % (n, b"r" * n) for n in CHUNKS)
                            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\nX-Sum: 5234\r\n\r\n")
                    except (OSError, ssl.SSLError):
                        pass
                    finally:
                        conn.close()
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[1], sys.argv[2])
                listener = socket.create_server(("127.0.0.1", \#(testPort(18549))))
                while True:
                    conn, _ = listener.accept()
                    try:
                        tls = context.wrap_socket(conn, server_side=True)
                    except (OSError, ssl.SSLError):
                        continue
                    threading.Thread(target=serve, args=(tls,), daemon=True).start()
                """#)
            let server = try TestProcess("/usr/bin/python3", [script, certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18549), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18549))]\nprotocols: [http]\ncapture: {payloadBytes: 256}\n")
            try await agent.waitForLog("tls.probed")
            _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18549))/curl"])
            let requests = try TestProcess("/usr/bin/python3", ["-c", """
                import requests, urllib3
                urllib3.disable_warnings()
                print(len(requests.get("https://127.0.0.1:\(testPort(18549))/python", verify=False).content))
                """])
            #expect(requests.wait() == 0 && requests.log.contains("5234"), "\(requests.log)")
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name)" })")
            #expect(spans.allSatisfy { $0.string("url.scheme") == "https" && $0.statusCode == 200 && $0.status == "STATUS_CODE_UNSET" })
            #expect(spans.allSatisfy { $0.responseBodySize == 5234 }, "\(spans.map { "\($0.kind) \($0.path ?? "") \($0.responseBodySize ?? -1)" })")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 2 && servers.allSatisfy { $0.pid == server.pid })
            for span in servers {
                #expect(clients.contains { $0.spanID == span.parentSpanID && $0.traceID == span.traceID })
            }
        }

        /// Node.js moves its records outside OpenSSL's calls (libuv reads the socket into a
        /// memory buffer, then SSL_read; SSL_write, then libuv writes the socket): a Node HTTPS
        /// client with a dozen requests on as many new connections at once (handshakes and
        /// exchanges interleaving on each side's event loop), curl to the same Node server, and
        /// the Node client to nginx: exact spans on both ends of every hop, each server span the
        /// child of its client's.
        @Test func nodeHTTPSServerAndClientGiveExactLinkedSpansOnInterleavedConnections() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let node = try NodeHTTPS(in: directory)
            let server = try TestProcess(node.executable, [node.server, "\(testPort(18581))", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18581), of: server)
            let nginx = try startNginx(in: directory, port: testPort(18582), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18582)) ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location /n/ { return 200 "nginx says hi\\n"; }
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(
                policy: "ports: [\(testPort(18581)), \(testPort(18582))]\nprotocols: [http]\n",
                arguments: ["--metrics-port", "\(testPort(18707))", "--metrics-address", "127.0.0.1"])
            try await agent.waitForLog(node.linksLibssl ? "libssl" : "file=\(node.executable)")
            let fromNode = try runChecked(node.executable, [node.client, "\(testPort(18581))", "12", "/item/", "POST"]).output
            #expect(fromNode.contains("\"ok\":12"), "the Node client's own view: \(fromNode)")
            _ = try runChecked("curl", ["-sk", "-o", "/dev/null", "-d", "hello", "https://127.0.0.1:\(testPort(18581))/item/5"])
            let toNginx = try runChecked(node.executable, [node.client, "\(testPort(18582))", "3", "/n/", "GET"]).output
            #expect(toNginx.contains("\"ok\":3"), "the Node client's own view: \(toNginx)")
            _ = try await agent.waitForSpans(count: 32, timeout: .seconds(15)) { $0.isHTTP }
            // The self-metrics name the file probed and the traced processes mapping it (the
            // Node server at least); they are published once a second.
            let probedFile = node.linksLibssl ? "libssl" : node.executable
            func probedProcesses() throws -> Double {
                try PrometheusSample.parse(try httpGet(port: testPort(18707), path: "/metrics")).filter {
                    $0.name == "periscope_agent_tls_processes_probed" && $0.labels["library"] == "openssl"
                        && $0.labels["file"]?.contains(probedFile) == true
                }.reduce(0) { $0 + $1.value }
            }
            let metricsDeadline = ContinuousClock.now + .seconds(5)
            while try probedProcesses() < 1, ContinuousClock.now < metricsDeadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try probedProcesses() >= 1, "periscope_agent_tls_processes_probed names \(probedFile)")
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 32, "\(spans.map { "\($0.kind) \($0.executable) \($0.name) \($0.path ?? "-")" })")
            #expect(spans.allSatisfy { $0.string("url.scheme") == "https" })
            let item = spans.filter { $0.path?.hasPrefix("/item/") == true }
            for span in item {
                let k = Int(span.path!.dropFirst("/item/".count)) ?? -1
                #expect(span.method == "POST" && span.statusCode == 200 + k % 3 && span.requestBodySize == k
                        && span.responseBodySize == 100 + k, "\(span.kind) \(span.path!): \(span.statusCode ?? 0) \(span.requestBodySize ?? -1) \(span.responseBodySize ?? -1)")
            }
            let itemServers = item.filter(\.isServer), itemClients = item.filter(\.isClient)
            #expect(itemServers.count == 13 && itemServers.allSatisfy { $0.pid == server.pid })
            #expect(itemClients.filter { $0.executable == node.executable }.count == 12)
            #expect(itemClients.filter { $0.executable.hasSuffix("/curl") }.count == 1)
            let nginxSpans = spans.filter { $0.path?.hasPrefix("/n/") == true }
            #expect(nginxSpans.filter { $0.isServer && $0.executable == "/usr/sbin/nginx" }.count == 3)
            #expect(nginxSpans.filter { $0.isClient && $0.executable == node.executable }.count == 3)
            #expect(nginxSpans.allSatisfy { $0.method == "GET" && $0.statusCode == 200 && $0.requestBodySize == 0 && $0.responseBodySize == 14 })
            for span in spans where span.isServer {
                let parent = spans.first { $0.spanID == span.parentSpanID }
                #expect(parent?.isClient == true && parent?.traceID == span.traceID && parent?.path == span.path,
                        "\(span.executable) \(span.path ?? "?") is its client's child")
            }
            #expect(metrics["decode_errors"] == 0, "records are never decoded")
            #expect((metrics["tls_sessions_bound_around_calls"] ?? 0) >= 26, "Node's sessions bound around their calls")
        }

        /// A Node client's keep-alive connection to a Node server, opened and used before the
        /// agent started: its sessions are bound at the next records read (no handshake to see),
        /// and from then on every request gives exact, linked spans on both ends.
        @Test func nodeKeepAliveConnectionOpenedBeforeTheAgentIsBoundAtItsNextRead() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let node = try NodeHTTPS(in: directory)
            let server = try TestProcess(node.executable, [node.server, "\(testPort(18585))", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18585), of: server)
            let client = try TestProcess(node.executable, [node.pacedClient, "\(testPort(18585))", "100", "100"])
            defer { client.stop() }
            try await Task.sleep(for: .milliseconds(800))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18585))]\nprotocols: [http]\n")
            _ = client.wait()
            #expect(client.log.contains("\"ok\":100"), "the Node client's own view: \(client.log)")
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            let numbers = Set(spans.compactMap { Int($0.path?.split(separator: "/").last ?? "") })
            let first = numbers.min() ?? 101
            #expect(first > 1 && first <= 90, "requests from \(first) on traced, the earlier ones before the agent")
            #expect(numbers == Set(first...100), "no request missed once the sessions are bound: \(numbers.sorted())")
            #expect(spans.count == 2 * numbers.count)
            for span in spans {
                let k = Int(span.path?.split(separator: "/").last ?? "") ?? -1
                #expect(span.method == "GET" && span.statusCode == 200 + k % 3 && span.responseBodySize == 100 + k)
                if span.isServer {
                    #expect(spans.contains { $0.isClient && $0.spanID == span.parentSpanID && $0.path == span.path })
                }
            }
            #expect((metrics["tls_sessions_bound_around_calls"] ?? 0) >= 2)
        }

        /// A traced process started after the agent gets its library probed within a second;
        /// its exit takes the probes away, and none of the agent's remains after SIGTERM.
        @Test func probesFollowTracedProcessesAndLeaveNothingBehind() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            // A copy of nginx under a name of its own: only this test's process is traced.
            let name = "tls-nginx-\(UInt32.random(in: 1...UInt32.max))"
            let binary = "\(directory.path)/\(name)"
            try Executables.copy("/usr/sbin/nginx", to: binary)
            let agent = try await AgentHarness(policy: "executables: [\"*/\(name)\"]\nprotocols: [http]\n")
            let agentPID = agent.process.pid
            #expect(tlsLinks(of: agentPID).isEmpty, "nothing probed before a traced process maps a TLS library")
            func startServer() throws -> TestProcess {
                let config = try directory.write("nginx.conf", """
                    daemon off;
                    worker_processes 1;
                    pid \(directory.path)/nginx.pid;
                    error_log \(directory.path)/error.log warn;
                    events { worker_connections 64; }
                    http {
                        access_log off;
                        server {
                            listen 127.0.0.1:\(testPort(18546)) ssl;
                            ssl_certificate \(certificate.certificate);
                            ssl_certificate_key \(certificate.key);
                            location / { return 200 "ok\\n"; }
                        }
                    }
                    """)
                return try TestProcess(binary, ["-c", config, "-p", directory.path])
            }
            func waitForLinks(_ wanted: (Int) -> Bool) async throws -> Duration {
                let start = ContinuousClock.now
                while !wanted(tlsLinks(of: agentPID).count), ContinuousClock.now < start + .seconds(5) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                return ContinuousClock.now - start
            }
            let nginx = try startServer()
            let probedAfter = try await waitForLinks { $0 >= 2 }
            let links = tlsLinks(of: agentPID)
            #expect(links.count == 2, "one entry and one return link on libssl")
            #expect(probedAfter < .seconds(1), "probed \(probedAfter) after nginx started")
            try waitForPort(testPort(18546), of: nginx)
            // nginx's worker, forked without exec, is selected by the agent's next look at
            // the process table: requests until it is.
            var spans: [PrintedSpan] = []
            let deadline = ContinuousClock.now + .seconds(15)
            while spans.isEmpty, ContinuousClock.now < deadline {
                _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18546))/"])
                spans = try await agent.waitForSpans(count: 1, timeout: .milliseconds(500)) { $0.isHTTP && $0.isServer }
            }
            #expect(spans.first?.string("url.scheme") == "https")
            nginx.stop()
            _ = try await waitForLinks { $0 == 0 }
            #expect(tlsLinks(of: agentPID).isEmpty, "nginx gone, its library's probes gone")
            let restarted = try startServer()
            defer { restarted.stop() }
            _ = try await waitForLinks { $0 >= 2 }
            let relinked = tlsLinks(of: agentPID)
            #expect(relinked.count == 2)
            try agent.stop()
            let listed = try run("bpftool", ["-j", "link", "show"])
            let remaining = Set(((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int })
            #expect(remaining.isDisjoint(with: links.union(relinked)), "no probe of the agent after SIGTERM")
        }
    }
}

/// A self-signed certificate for 127.0.0.1 made with Debian's openssl.
struct TLSCertificate {
    let certificate: String
    let key: String

    init(in directory: TemporaryDirectory) throws {
        certificate = "\(directory.path)/cert.pem"
        key = "\(directory.path)/key.pem"
        _ = try run("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=127.0.0.1",
        ])
        guard FileManager.default.fileExists(atPath: certificate), FileManager.default.fileExists(atPath: key) else {
            throw TestFailure("openssl made no certificate in \(directory.path)")
        }
    }
}

/// A Node.js HTTPS server and client (scripts written into a test directory) run by the
/// `node` on the PATH. The server answers `<prefix><k>` with status 200 + k % 3 and 100 + k
/// bytes after a few milliseconds that vary with k; the client sends `count` requests at once,
/// each on a new connection, and prints how many succeeded as `{"ok":n}`.
struct NodeHTTPS {
    let executable: String
    let server: String
    let client: String
    /// One keep-alive connection, `count` GETs of `/item/<k>` one after the other, `pause`
    /// milliseconds apart; prints `{"ok":n}`.
    let pacedClient: String
    /// Debian's build links the system's libssl; others link OpenSSL in and export it.
    let linksLibssl: Bool

    init(in directory: TemporaryDirectory) throws {
        let found = try runChecked("/bin/sh", ["-c", "readlink -f \"$(command -v node)\""]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !found.isEmpty else { throw TestFailure("node is not installed (hack/setup.sh installs nodejs)") }
        executable = found
        linksLibssl = try runChecked("ldd", [found]).output.contains("libssl")
        server = try directory.write("server.js", """
            const https = require('https'), fs = require('fs');
            const [port, cert, key] = process.argv.slice(2);
            https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, (req, res) => {
                const k = +(req.url.split('/').pop()) || 0;
                req.on('data', () => {});
                req.on('end', () => setTimeout(() => { res.writeHead(200 + k % 3); res.end('x'.repeat(100 + k)); }, (k * 7) % 13));
            }).listen(+port, '127.0.0.1');
            """)
        client = try directory.write("client.js", """
            const https = require('https');
            const [port, count, prefix, method] = process.argv.slice(2);
            const agent = new https.Agent({keepAlive: false, maxSockets: Infinity, rejectUnauthorized: false});
            const call = (k) => new Promise((done, fail) => {
                const body = method === 'POST' ? 'b'.repeat(k) : '';
                const headers = method === 'POST' ? {'content-length': body.length} : {};
                const request = https.request({host: '127.0.0.1', port: +port, path: prefix + k, method, agent, headers}, (res) => {
                    res.on('data', () => {});
                    res.on('end', () => done(res.statusCode));
                });
                request.on('error', fail);
                request.end(body);
            });
            Promise.all([...Array(+count).keys()].map((k) => call(k + 1)))
                .then((codes) => console.log(JSON.stringify({ok: codes.length})))
                .catch((error) => { console.log(JSON.stringify({error: String(error)})); process.exit(1); });
            """)
        pacedClient = try directory.write("paced-client.js", """
            const https = require('https');
            const [port, count, pause] = process.argv.slice(2).map(Number);
            const agent = new https.Agent({keepAlive: true, maxSockets: 1, rejectUnauthorized: false});
            let done = 0;
            const next = () => {
                if (done === count) { console.log(JSON.stringify({ok: done})); agent.destroy(); return; }
                https.get({host: '127.0.0.1', port, path: '/item/' + (done + 1), agent}, (res) => {
                    res.resume();
                    res.on('end', () => { done += 1; setTimeout(next, pause); });
                }).on('error', (error) => { console.log(JSON.stringify({error: String(error)})); process.exit(1); });
            };
            next();
            """)
    }
}

/// The ids of the uprobe_multi links `pid` holds, from its descriptors' fdinfo.
func tlsLinks(of pid: Int32) -> Set<Int> {
    let directory = "/proc/\(pid)/fdinfo"
    var links: Set<Int> = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
        guard let info = try? String(contentsOfFile: "\(directory)/\(entry)", encoding: .utf8),
              info.contains("link_type:\tuprobe_multi") || info.contains("link_type:\turetprobe_multi") else { continue }
        for line in info.split(separator: "\n") where line.hasPrefix("link_id:") {
            if let id = Int(line.dropFirst("link_id:".count).trimmingCharacters(in: .whitespaces)) { links.insert(id) }
        }
    }
    return links
}
