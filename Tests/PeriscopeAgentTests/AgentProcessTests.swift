import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    /// The executable's life cycle as an operator sees it.
    @Suite struct AgentProcessTests {
        /// IDs of loaded BPF programs whose name starts with `periscope_`.
        static func periscopePrograms() throws -> Set<Substring> {
            Set(try run("bpftool", ["prog", "show"]).split(separator: "\n")
                .filter { $0.contains("name periscope_") }
                .compactMap { $0.split(separator: ":").first })
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
            let server = try startPythonServer(port: 18531, directory: site.path)
            defer { server.stop() }
            let agent = try await AgentHarness(policy: "ports: [18531]\n")
            let ours = Self.programs(heldBy: agent.process.pid)
            #expect(
                ours.count == 13,
                """
                sys_exit with its two stages (propagation's server context, the capture), close, close_range, fork, exec \
                and exit programs, the two that write trace context into traffic, the two OpenSSL probes and the Go \
                crypto/tls probe, loaded while running
                """)
            #expect(try Self.periscopePrograms().isSuperset(of: ours))
            let linked = Self.programs(heldBy: agent.process.pid, links: true)
            // Every program has a link but the payload program, attached to its sockhash, sys_exit's
            // two stages, reached by tail call, and the TLS probes (OpenSSL's two, Go's one), linked
            // only to the TLS libraries and Go executables traced processes map (python's server
            // here maps none).
            #expect(ours.subtracting(linked).count == 6, "programs attached while running")
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:18531/index.html"])
            _ = try await agent.waitForSpans { $0.isServer }
            kill(agent.process.pid, SIGUSR1)
            let deadline = ContinuousClock.now + .seconds(5)
            while !agent.process.errorLog.contains("agent.metrics"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(agent.process.errorLog.contains("agent.metrics"), "SIGUSR1 prints the self-metrics")
            #expect(agent.process.errorLog.contains("spans_emitted=2"), "a client and a server span so far")
            let metrics = try agent.stop()
            #expect(agent.exitStatus == 0)
            #expect(metrics["spans_emitted"] == 2, "self-metrics printed on exit")

            // Programs are freed asynchronously once their last reference is gone.
            var remaining = try Self.periscopePrograms().intersection(ours)
            for _ in 0..<40 where !remaining.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
                remaining = try Self.periscopePrograms().intersection(ours)
            }
            #expect(remaining.isEmpty, "programs left loaded: \(remaining)")
            let linksAfter = try run("bpftool", ["link", "show"])
            for id in ours {
                #expect(!linksAfter.contains("prog \(id)"), "link to program \(id) left behind")
            }
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
    }
}
