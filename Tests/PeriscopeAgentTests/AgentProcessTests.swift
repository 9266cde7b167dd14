import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    /// The executable's life cycle as an operator sees it.
    @Suite struct AgentProcessTests {
        /// Loaded BPF programs whose name starts with `periscope_`: name by ID.
        static func periscopePrograms() throws -> [Substring: Substring] {
            var found: [Substring: Substring] = [:]
            for line in try run("bpftool", ["prog", "show"]).split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let id = words.first?.split(separator: ":").first,
                      let at = words.firstIndex(of: "name"), at + 1 < words.count, words[at + 1].hasPrefix("periscope_")
                else { continue }
                found[id] = words[at + 1]
            }
            return found
        }

        /// The `prog_id` of every BPF program (or, with `links`, of every link's program) process
        /// `pid` holds a descriptor of, from `/proc/<pid>/fdinfo`: what this agent loaded, whatever
        /// other agents on the machine load meanwhile.
        static func programs(heldBy pid: Int32, links: Bool = false) -> Set<Substring> {
            let directory = "/proc/\(pid)/fdinfo"
            var found: Set<Substring> = []
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                guard let info = try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) else { continue }
                let lines = info.split(separator: "\n")
                guard lines.contains(where: { $0.hasPrefix(links ? "link_type:" : "prog_type:") }),
                      let id = lines.first(where: { $0.hasPrefix("prog_id:") })?.split(separator: "\t").last
                else { continue }
                found.insert(id)
            }
            return found
        }

        @Test func leavesNoProgramOrLinkLoadedAfterSIGTERM() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try startPythonServer(port: testPort(18531), directory: site.path)
            defer { server.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18531))]\n")
            let ours = Self.programs(heldBy: agent.process.pid)
            #expect(
                ours.count == 13,
                """
                sys_exit with its two stages (propagation's server context, the capture), close, close_range, fork, exec \
                and exit programs, the two that write trace context into traffic, the two OpenSSL probes and the Go \
                crypto/tls probe, loaded while running
                """)
            let loaded = try Self.periscopePrograms()
            #expect(Set(loaded.keys).isSuperset(of: ours))
            // The server-context stage of the raw-tracepoint tracer is `…_raw`.
            func name(_ id: Substring) -> Substring? { loaded[id].map { $0.hasSuffix("_raw") ? $0.dropLast(4) : $0 } }
            let names = Set(ours.compactMap(name))
            let tlsProbes: Set<Substring> = ["periscope_tls_enter", "periscope_tls_return", "periscope_gotls_probe"]
            let unlinked: Set<Substring> = ["periscope_inject", "periscope_sys_exit_capture", "periscope_server_context"]
            #expect(names.isSuperset(of: tlsProbes.union(unlinked)), "\(names.sorted())")
            // Every program has a link but the payload program, attached to its sockhash, and
            // sys_exit's two stages, reached by tail call. The TLS probes are linked to the TLS
            // libraries and Go executables that processes of the machine map (a policy of ports
            // only traces every process): OpenSSL's two once the attacher has looked at this
            // test's python server, which maps libssl (http.server imports ssl); Go's whenever a
            // Go program runs meanwhile (kubectl in another suite), so it is not counted.
            func linkedNames() -> Set<Substring> {
                Set(Self.programs(heldBy: agent.process.pid, links: true).compactMap(name))
            }
            var linked = linkedNames()
            let attachDeadline = ContinuousClock.now + .seconds(20)
            while !linked.isSuperset(of: ["periscope_tls_enter", "periscope_tls_return"]), ContinuousClock.now < attachDeadline {
                try await Task.sleep(for: .milliseconds(50))
                linked = linkedNames()
            }
            #expect(names.subtracting(tlsProbes).subtracting(linked) == unlinked, "programs attached while running: \(linked.sorted())")
            #expect(linked.isSuperset(of: ["periscope_tls_enter", "periscope_tls_return"]), "the OpenSSL probes on python's libssl")
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18531))/index.html"])
            _ = try await agent.waitForSpans(timeout: .seconds(20)) { $0.isServer }
            _ = try await agent.waitForSpans(timeout: .seconds(20)) { $0.isClient }
            kill(agent.process.pid, SIGUSR1)
            let deadline = ContinuousClock.now + .seconds(20)
            while !agent.process.errorLog.contains("agent.metrics"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(agent.process.errorLog.contains("agent.metrics"), "SIGUSR1 prints the self-metrics")
            #expect(agent.process.errorLog.contains("spans_emitted=2"), "a client and a server span so far")
            let metrics = try agent.stop()
            #expect(agent.exitStatus == 0)
            #expect(metrics["spans_emitted"] == 2, "self-metrics printed on exit")

            // Links go with the agent's descriptors; a program goes once its last reference does,
            // after an RCU grace period for the uprobe links' programs, which is long on a busy machine.
            func leftBehind() throws -> (programs: Set<Substring>, links: Set<Substring>) {
                let words = try run("bpftool", ["link", "show"]).split(whereSeparator: \.isWhitespace)
                let linkedPrograms = zip(words, words.dropFirst()).filter { $0.0 == "prog" }.map(\.1)
                return (Set(try Self.periscopePrograms().keys).intersection(ours), ours.intersection(linkedPrograms))
            }
            var (remaining, linksLeft) = try leftBehind()
            let releaseDeadline = ContinuousClock.now + .seconds(30)
            while !(remaining.isEmpty && linksLeft.isEmpty), ContinuousClock.now < releaseDeadline {
                try await Task.sleep(for: .milliseconds(100))
                (remaining, linksLeft) = try leftBehind()
            }
            #expect(remaining.isEmpty, "programs left loaded: \(remaining.sorted())")
            #expect(linksLeft.isEmpty, "links to programs left behind: \(linksLeft.sorted())")
        }

        @Test func refusesToStartOnAnInvalidPolicyNamingTheField() throws {
            let site = try TemporaryDirectory()
            let policy = try site.write("policy.yaml", "ports: [{port: 8000, endPort: 70000}]\n")
            let agent = try TestProcess(try AgentHarness.executablePath, ["--config", policy])
            let status = agent.wait()
            #expect((status >> 8) & 0xff == 2)
            #expect(agent.log.contains("spec.ports[0].endPort"))
            #expect(agent.log.contains("70000"))
        }

        @Test func helpDescribesTheCommandLine() throws {
            let help = try run(try AgentHarness.executablePath, ["--help"])
            #expect(help.contains("--config"))
            #expect(help.contains("--output"))
            #expect(help.contains("SIGHUP"))
        }

        /// Each option's entry states its default once: the parser adds `(default: …)` to an
        /// option with a default value, so its own text must not say it again.
        @Test func helpStatesEachDefaultOnce() throws {
            let help = try run(try AgentHarness.executablePath, ["--help"])
            let options = try #require(help.range(of: "OPTIONS:")).upperBound
            var entries: [String] = []
            for line in help[options...].split(separator: "\n") {
                if line.hasPrefix("  -") { entries.append(String(line)) } else if !entries.isEmpty { entries[entries.count - 1] += String(line) }
            }
            #expect(entries.count >= 10, "\(entries)")
            for entry in entries {
                let text = entry.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                #expect(text.components(separatedBy: "default").count <= 2, "\(text)")
            }
        }
    }
}
