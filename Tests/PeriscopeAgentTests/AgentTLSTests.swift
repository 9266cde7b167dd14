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
            let nginx = try startNginx(in: directory, port: 18541, httpBlock: """
                server {
                    listen 127.0.0.1:18541 ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location /hello { return 200 "hello over tls\\n"; }
                    location /upload { return 201 "stored\\n"; }
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [18541]\nprotocols: [http]\n")
            try await agent.waitForLog("tls.probed")
            _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:18541/hello"])
            _ = try run("curl", ["-sk", "-o", "/dev/null", "-d", "twelve bytes", "https://127.0.0.1:18541/upload"])
            _ = try run("/usr/bin/python3", ["-c", """
                import requests, urllib3
                urllib3.disable_warnings()
                requests.get("https://127.0.0.1:18541/hello?from=python", verify=False).raise_for_status()
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

        /// curl → nginx over TLS → python's http.server in cleartext: one trace of four spans,
        /// each the child of the one before.
        @Test func httpsThroughNginxToAPlaintextBackendIsOneTrace() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            _ = try directory.write("site/page.txt", String(repeating: "p", count: 321))
            let backend = try startPythonServer(port: 18543, directory: "\(directory.path)/site", executable: "/usr/bin/python3")
            defer { backend.stop() }
            let nginx = try startNginx(in: directory, port: 18542, httpBlock: """
                server {
                    listen 127.0.0.1:18542 ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location / { proxy_pass http://127.0.0.1:18543; }
                }
                """)
            defer { nginx.stop() }
            // Context written into traffic is decided in the kernel from cleartext request
            // reads only, not yet from TLS plaintext: without it the agent links the hops.
            let agent = try await AgentHarness(policy: "ports: [18542, 18543]\nprotocols: [http]\npropagation: none\n")
            try await agent.waitForLog("tls.probed")
            _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:18542/page.txt"])
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

        /// python's http.server wrapped in `ssl`, curl as the client: https spans on both ends.
        @Test func pythonSSLWrappedHTTPServerGivesHTTPSSpans() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            _ = try directory.write("site/data.json", "{\"ok\":true}")
            let script = try directory.write("serve.py", """
                import functools, http.server, ssl, sys
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
                server = http.server.HTTPServer(("127.0.0.1", 18544), handler)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                server.socket = context.wrap_socket(server.socket, server_side=True)
                server.serve_forever()
                """)
            let server = try TestProcess("/usr/bin/python3", [script, "\(directory.path)/site", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(18544, of: server)
            let agent = try await AgentHarness(policy: "ports: [18544]\nprotocols: [http]\n")
            try await agent.waitForLog("tls.probed")
            for _ in 0..<2 {
                _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:18544/data.json"])
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

        /// A traced process started after the agent gets its library probed within a second;
        /// its exit takes the probes away, and none of the agent's remains after SIGTERM.
        @Test func probesFollowTracedProcessesAndLeaveNothingBehind() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            // A copy of nginx under a name of its own: only this test's process is traced.
            let name = "tls-nginx-\(UInt32.random(in: 1...UInt32.max))"
            let binary = "\(directory.path)/\(name)"
            try FileManager.default.copyItem(atPath: "/usr/sbin/nginx", toPath: binary)
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
                            listen 127.0.0.1:18546 ssl;
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
            try waitForPort(18546, of: nginx)
            // nginx's worker, forked without exec, is selected by the agent's next look at
            // the process table: requests until it is.
            var spans: [PrintedSpan] = []
            let deadline = ContinuousClock.now + .seconds(15)
            while spans.isEmpty, ContinuousClock.now < deadline {
                _ = try run("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:18546/"])
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
