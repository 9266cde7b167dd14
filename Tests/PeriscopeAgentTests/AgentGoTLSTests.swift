import Foundation
import PeriscopeTestSupport
import Synchronization
import Testing

/// Go's crypto/tls through the real agent: plaintext read by uprobes at
/// `crypto/tls.(*Conn).Read`/`Write` of Go programs built here with Debian's Go toolchain
/// (Tests/Fixtures/gotls/main.go), real peers on both ends.
extension KernelTests {
    @Suite struct AgentGoTLSTests {
        /// A Go HTTPS server and a Go HTTPS client: both ends' spans with exact method, path,
        /// status and body sizes, each server span the child of its client's.
        @Test func goServerAndGoClientGiveExactLinkedSpansOnBothEnds() async throws {
            let binary = try GoTLSFixture.binary()
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let server = try TestProcess(binary, ["serve", "127.0.0.1:\(testPort(18561))", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18561), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18561))]\nprotocols: [http]\n")
            try await agent.waitForLog("file=\(binary) functions=crypto/tls.(*Conn).Read")
            // The client runs the file probed already: its probes are in place from its start.
            let client = try TestProcess(binary, ["call", "https://127.0.0.1:\(testPort(18561))"])
            #expect(client.wait() == 0, "\(client.log)")
            #expect(client.log.contains("GET https://127.0.0.1:\(testPort(18561))/hello 200 14") && client.log.contains("POST https://127.0.0.1:\(testPort(18561))/upload 201 7"))
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try await agent.currentMetrics()
            try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name)" })\n\(agent.tlsLog)")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 2 && servers.allSatisfy { $0.pid == server.pid })
            #expect(clients.count == 2 && clients.allSatisfy { $0.pid == client.pid })
            Self.expectExact(spans)
            Self.expectLinked(servers: servers, clients: clients)
            #expect(metrics["decode_errors"] == 0, "records are never decoded")
            #expect((metrics["tls_go_files_probed"] ?? 0) >= 1)
            #expect((metrics["tls_go_plaintext_events"] ?? 0) >= 8, "\(metrics)")
            #expect(metrics["tls_go_calls_unresolved"] == 0 && metrics["tls_go_calls_lost"] == 0)
            #expect((metrics["tls_record_transfers"] ?? 0) > 0, "records on the sockets are counted, not copied")
            #expect(agent.tlsLog.contains("go.offsets=dwarf go.version=go1."), "offsets read from the binary's DWARF")
        }

        /// curl against the Go server, over HTTP/1.1 and over HTTP/2 (ALPN): server spans read
        /// from Go's crypto/tls, client spans from curl's OpenSSL, linked.
        @Test func curlAgainstTheGoServerOverHTTP1AndHTTP2() async throws {
            let binary = try GoTLSFixture.binary()
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let server = try TestProcess(binary, ["serve", "127.0.0.1:\(testPort(18562))", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18562), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18562))]\nprotocols: [http]\n")
            try await agent.waitForLog("file=\(binary) functions=crypto/tls.(*Conn).Read")
            try await agent.waitForLog("library=openssl")
            _ = try run("curl", ["-sk", "--http1.1", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18562))/hello"])
            _ = try run("curl", ["-sk", "--http2", "-o", "/dev/null", "-d", String(repeating: "c", count: 5000), "https://127.0.0.1:\(testPort(18562))/upload"])
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name) \($0.string("network.protocol.version") ?? "")" })")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 2 && servers.allSatisfy { $0.pid == server.pid })
            #expect(clients.count == 2 && clients.allSatisfy { $0.executable.hasSuffix("/curl") })
            #expect(Set(servers.compactMap { $0.string("network.protocol.version") }) == ["1.1", "2"])
            Self.expectExact(spans)
            Self.expectLinked(servers: servers, clients: clients)
            #expect(metrics["decode_errors"] == 0)
        }

        /// The Go client against nginx over HTTPS: the client span from Go's crypto/tls, the
        /// server span from nginx's OpenSSL, linked.
        @Test func goClientAgainstNginxHTTPS() async throws {
            let binary = try GoTLSFixture.binary()
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let nginx = try startNginx(in: directory, port: testPort(18563), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18563)) ssl;
                    ssl_certificate \(certificate.certificate);
                    ssl_certificate_key \(certificate.key);
                    location /hello { return 200 "hello from go\\n"; }
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18563))]\nprotocols: [http]\n")
            try await agent.waitForLog("library=openssl")
            // A client started after the agent: it waits a moment, as a service that starts
            // and later calls another, and is probed by then.
            let client = try TestProcess(
                binary, ["get", "https://127.0.0.1:\(testPort(18563))/hello", "https://127.0.0.1:\(testPort(18563))/hello?again=1"],
                environment: ["GOTLS_START_DELAY_MS": "1500"]
            )
            try await agent.waitForLog("file=\(binary) functions=crypto/tls.(*Conn).Read")
            #expect(client.wait() == 0, "\(client.log)")
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name)" })")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 2 && servers.allSatisfy { $0.executable == "/usr/sbin/nginx" })
            #expect(clients.count == 2 && clients.allSatisfy { $0.pid == client.pid })
            Self.expectExact(spans)
            Self.expectLinked(servers: servers, clients: clients)
            #expect(metrics["decode_errors"] == 0)
        }

        /// A Go server started after the agent is probed within a second; it exiting takes the
        /// probes away, and none of the agent's remains after SIGTERM. A stripped Go program is
        /// refused, with its reason in the log and the self-metrics.
        @Test func goServerStartedLaterIsProbedWithinASecondAndStrippedOnesAreRefused() async throws {
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            // Copies under names of their own: only this test's processes are traced.
            let suffix = UInt32.random(in: 1...UInt32.max)
            let binary = "\(directory.path)/gotls-\(suffix)"
            try Executables.copy(try GoTLSFixture.binary(), to: binary)
            let stripped = "\(directory.path)/gotls-stripped-\(suffix)"
            try Executables.copy(try GoTLSFixture.binary(stripped: true), to: stripped)
            let agent = try await AgentHarness(policy: "executables: [\"*/gotls-\(suffix)\", \"*/gotls-stripped-\(suffix)\"]\nprotocols: [http]\n")
            let agentPID = agent.process.pid
            func waitForLinks(_ wanted: (Int) -> Bool) async throws -> Duration {
                let start = ContinuousClock.now
                while !wanted(tlsLinks(of: agentPID).count), ContinuousClock.now < start + .seconds(5) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                return ContinuousClock.now - start
            }
            #expect(tlsLinks(of: agentPID).isEmpty)
            let server = try TestProcess(binary, ["serve", "127.0.0.1:\(testPort(18564))", certificate.certificate, certificate.key])
            let probedAfter = try await waitForLinks { $0 >= 1 }
            let links = tlsLinks(of: agentPID)
            #expect(links.count == 1, "one link holds the entries and returns of Read and Write")
            #expect(probedAfter < .seconds(1), "probed \(probedAfter) after the Go server started")
            try waitForPort(testPort(18564), of: server)
            // Selected by its executable once the agent saw it start: it calls a moment later.
            let client = try TestProcess(binary, ["call", "https://127.0.0.1:\(testPort(18564))"], environment: ["GOTLS_START_DELAY_MS": "500"])
            #expect(client.wait() == 0, "\(client.log)")
            let spans = try await agent.waitForSpans(count: 4, timeout: .seconds(10)) { $0.isHTTP }
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.pid) \($0.name)" }) server \(server.pid) client \(client.pid)\n\(agent.tlsLog)")
            server.stop()
            _ = try await waitForLinks { $0 == 0 }
            #expect(tlsLinks(of: agentPID).isEmpty, "the Go server gone, its probes gone")

            let refused = try TestProcess(stripped, ["serve", "127.0.0.1:\(testPort(18565))", certificate.certificate, certificate.key])
            defer { refused.stop() }
            try waitForPort(testPort(18565), of: refused)
            try await agent.waitForLog("reason=tls.no_symbols")
            #expect(agent.process.errorLog.contains("file=\(stripped)"))
            let restarted = try TestProcess(binary, ["serve", "127.0.0.1:\(testPort(18564))", certificate.certificate, certificate.key])
            defer { restarted.stop() }
            _ = try await waitForLinks { $0 >= 1 }
            let relinked = tlsLinks(of: agentPID)
            #expect(relinked.count == 1)
            let metrics = try await agent.currentMetrics()
            #expect(metrics["tls_processes_refused"] == 1, "the stripped server: \(metrics)")
            #expect(metrics["tls_go_files_probed"] == 1, "the restarted server: \(metrics)")
            try agent.stop()
            let listed = try run("bpftool", ["-j", "link", "show"])
            let remaining = Set(((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int })
            #expect(remaining.isDisjoint(with: links.union(relinked)), "no probe of the agent after SIGTERM")
        }

        /// A Go program built without DWARF (`-ldflags=-w`): the struct offsets come from the
        /// table for its Go version, and its spans are as exact.
        @Test func goProgramWithoutDWARFTakesOffsetsFromTheVersionTable() async throws {
            let binary = try GoTLSFixture.binary(withoutDWARF: true)
            let directory = try TemporaryDirectory()
            let certificate = try TLSCertificate(in: directory)
            let server = try TestProcess(binary, ["serve", "127.0.0.1:\(testPort(18566))", certificate.certificate, certificate.key])
            defer { server.stop() }
            try waitForPort(testPort(18566), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18566))]\nprotocols: [http]\n")
            try await agent.waitForLog("file=\(binary) functions=crypto/tls.(*Conn).Read")
            let client = try TestProcess(binary, ["call", "https://127.0.0.1:\(testPort(18566))"])
            #expect(client.wait() == 0, "\(client.log)")
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(15)) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            #expect(agent.tlsLog.contains("go.offsets=version_table go.version=go1."), "\(agent.tlsLog)")
            let spans = try agent.spans.filter(\.isHTTP)
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.executable) \($0.name)" })")
            Self.expectExact(spans)
            Self.expectLinked(servers: spans.filter(\.isServer), clients: spans.filter(\.isClient))
        }

        /// `/hello`: GET, 200, no request body, 14 bytes back; `/upload`: POST of 5000 bytes, 201, 7 back.
        static func expectExact(_ spans: [PrintedSpan]) {
            for span in spans {
                #expect(span.string("url.scheme") == "https", "\(span.kind) \(span.name)")
                switch span.path {
                case "/hello":
                    #expect(span.method == "GET" && span.statusCode == 200 && span.requestBodySize == 0 && span.responseBodySize == 14,
                            "\(span.kind) \(span.executable) \(span.name) \(span.statusCode ?? 0) \(span.requestBodySize ?? -1) \(span.responseBodySize ?? -1)")
                case "/upload":
                    #expect(span.method == "POST" && span.statusCode == 201 && span.requestBodySize == 5000 && span.responseBodySize == 7,
                            "\(span.kind) \(span.executable) \(span.name) \(span.statusCode ?? 0) \(span.requestBodySize ?? -1) \(span.responseBodySize ?? -1)")
                default:
                    Issue.record("unexpected span \(span.kind) \(span.name) \(span.path ?? "-")")
                }
            }
        }

        /// Each server span is the child of the client span of the same request.
        static func expectLinked(servers: [PrintedSpan], clients: [PrintedSpan]) {
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent != nil && parent?.traceID == span.traceID && parent?.path == span.path, "\(span.path ?? "?") is its client's child")
            }
        }
    }
}

extension AgentHarness {
    /// The self-metrics as of now (SIGUSR1), while the probes are still in place.
    func currentMetrics() async throws -> [String: Int] {
        func lines() -> [Substring] { process.errorLog.split(separator: "\n").filter { $0.hasSuffix("agent.metrics") } }
        let printed = lines().count
        kill(process.pid, SIGUSR1)
        let deadline = ContinuousClock.now + .seconds(5)
        while lines().count == printed {
            guard ContinuousClock.now < deadline else { throw TestFailure("the agent printed no metrics on SIGUSR1") }
            try await Task.sleep(for: .milliseconds(20))
        }
        var values: [String: Int] = [:]
        for field in lines().last?.split(separator: " ") ?? [] {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    /// The agent's log lines about TLS probes, for failure messages.
    var tlsLog: String {
        process.errorLog.split(separator: "\n").filter { $0.contains("tls.") }.joined(separator: "\n")
    }
}

/// Tests/Fixtures/gotls/main.go built once per test run with Debian's Go toolchain, offline
/// (standard library only), with its symbol table and DWARF, or stripped of both.
enum GoTLSFixture {
    private static let built = Mutex<[String: String]>([:])

    /// `stripped`: no symbol table, no DWARF (`-s -w`); `withoutDWARF`: symbols only (`-w`).
    static func binary(stripped: Bool = false, withoutDWARF: Bool = false) throws -> String {
        let variant = stripped ? "stripped" : withoutDWARF ? "nodwarf" : "full"
        let flags = stripped ? ["-ldflags=-s -w"] : withoutDWARF ? ["-ldflags=-w"] : []
        return try built.withLock { built in
            if let path = built[variant] { return path }
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../Fixtures/gotls/main.go").standardized.path
            // Built beside its final name and renamed over it: one file per variant across runs,
            // and a program of an earlier run still running keeps its own.
            let output = NSTemporaryDirectory() + "periscope-gotls-\(variant)"
            let partial = output + ".\(getpid())"
            // A cache shared across runs: the standard library is compiled once per machine.
            let cache = NSTemporaryDirectory() + "periscope-gocache"
            let go = try TestProcess.which("go")
            let build = try TestProcess(
                go, ["build", "-o", partial] + flags + [source],
                environment: ["GOCACHE": cache, "GO111MODULE": "off", "GOFLAGS": "", "HOME": NSTemporaryDirectory()]
            )
            guard build.wait() == 0 else { throw TestFailure("go build \(source): \(build.log)") }
            guard rename(partial, output) == 0 else { throw TestFailure("cannot rename \(partial) to \(output): errno \(errno)") }
            built[variant] = output
            return output
        }
    }
}
