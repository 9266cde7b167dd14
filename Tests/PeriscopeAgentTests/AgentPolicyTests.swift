import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    @Suite struct AgentPolicyTests {
        @Test func excludedProcessesNeverProduceSpansAndPolicyEditsApplyWithinASecond() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            // A copy of python under a name the policy excludes.
            let renamed = "\(site.path)/healthcheck-server"
            let python = URL(fileURLWithPath: try TestProcess.which("python3")).resolvingSymlinksInPath().path
            try Executables.copy(python, to: renamed)

            let byPID = try startPythonServer(port: testPort(18511), directory: site.path)
            let byExecutable = try startPythonServer(port: testPort(18512), directory: site.path, executable: renamed)
            // The shell is excluded; the server it forks once the agent runs must stay excluded.
            let parent = try TestProcess("sh", ["-c", "sleep 2; python3 -m http.server \(testPort(18513)) --bind 127.0.0.1 --directory \(site.path); true"])
            let traced = try startPythonServer(port: testPort(18514), directory: site.path)
            let policy = { (excludedPIDs: [Int32]) in
                """
                ports: [{port: \(testPort(18511)), endPort: \(testPort(18514))}]
                exclude:
                  pids: [\(excludedPIDs.map(String.init).joined(separator: ", "))]
                  executables: ["*healthcheck*"]
                """
            }
            let agent = try await AgentHarness(policy: policy([byPID.pid, parent.pid]))
            try waitForPort(testPort(18513))

            func get(_ port: UInt16) throws {
                try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])
            }
            for port: UInt16 in [testPort(18511), testPort(18512), testPort(18513), testPort(18514)] { try get(port) }
            let tracedSpans = try await agent.waitForSpans { $0.isServer && $0.localPort == Int(testPort(18514)) }
            #expect(tracedSpans.count == 1)
            #expect(tracedSpans.first?.pid == traced.pid)
            _ = try await agent.waitForSpans(count: 4) { $0.isClient }
            let serverPorts = Set(try agent.spans.filter { $0.isServer }.compactMap(\.localPort))
            #expect(serverPorts == [Int(testPort(18514))], "excluded pid, excluded executable and the excluded shell's child stay silent")
            #expect(try !agent.spans.contains { $0.pid == byPID.pid || $0.pid == byExecutable.pid })
            // curl is not excluded: its client spans to every server are there.
            #expect(Set(try agent.spans.filter { $0.isClient }.compactMap(\.peerPort)) == [Int(testPort(18511)), Int(testPort(18512)), Int(testPort(18513)), Int(testPort(18514))])

            // Edit: exclude the traced server, stop excluding the first one.
            try agent.updatePolicy(policy([traced.pid, parent.pid]))
            try await Task.sleep(for: .seconds(1))
            let before = try agent.spans.count
            try get(testPort(18514))
            try get(testPort(18511))
            let now = try await agent.waitForSpans { $0.isServer && $0.localPort == Int(testPort(18511)) }
            _ = try await agent.waitForSpans(count: 6) { $0.isClient }
            let metrics = try agent.stop()
            #expect(now.count == 1)
            #expect(now.first?.pid == byPID.pid)
            #expect(try !agent.spans[before...].contains { $0.isServer && $0.localPort == Int(testPort(18514)) })
            #expect(metrics["policy_reloads"] == 1)
        }

        /// Two policies in one file: the first gives python only connection spans, the second
        /// HTTP spans to everything else. Dropping the first, live, gives python HTTP spans.
        @Test func eachProcessRunsTheDecodersOfTheFirstPolicySelectingItAndEditsApplyLive() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try startPythonServer(port: testPort(18516), directory: site.path)
            let agent = try await AgentHarness(policy: """
                pids: [\(server.pid)]
                protocols: [tcp]
                ---
                ports: [\(testPort(18516))]
                """)
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18516))/index.html"])
            let first = try await agent.waitForSpans(count: 2) { $0.pid == server.pid || $0.isClient }
            let served = try #require(first.first { $0.pid == server.pid })
            #expect(served.isTCP && !served.isHTTP, "python runs the first policy's decoders: \(served.name)")
            #expect(first.contains { $0.isClient && $0.path == "/index.html" }, "curl runs the second's")

            try agent.updatePolicy("ports: [\(testPort(18516))]\n")
            try await Task.sleep(for: .seconds(1))
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18516))/index.html?after"])
            let after = try await agent.waitForSpans { $0.pid == server.pid && $0.isHTTP }
            let metrics = try agent.stop()
            #expect(after.first?.path == "/index.html")
            #expect(after.first?.statusCode == 200)
            #expect(metrics["policy_reloads"] == 1)
        }

        /// Routes and excluded routes are each policy's own: they name and drop the spans of
        /// the processes that policy selects, not those of the processes another one selects.
        @Test func eachProcessFollowsTheRoutesOfItsOwnPolicy() async throws {
            let site = try TemporaryDirectory()
            for name in ["private", "7"] { _ = try site.write(name, "x\n") }
            try FileManager.default.createDirectory(atPath: "\(site.path)/items", withIntermediateDirectories: true)
            _ = try site.write("items/7", "seven\n")
            let named = try startPythonServer(port: testPort(18517), directory: site.path)
            let other = try startPythonServer(port: testPort(18518), directory: site.path)
            let agent = try await AgentHarness(policy: """
                pids: [\(named.pid)]
                routes: ["/items/{item}"]
                exclude: {routes: ["/private"]}
                ---
                ports: [\(testPort(18517)), \(testPort(18518))]
                """)
            // Neither policy selects this server's port nor curl's calls to it: the kernel sees
            // them (one policy selects a process on every port, the other every process on two
            // ports), the agent drops them.
            let unselected = try startPythonServer(port: testPort(18519), directory: site.path)
            for port in [testPort(18517), testPort(18518), testPort(18519)] {
                for path in ["/private", "/items/7"] { try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)\(path)"]) }
            }
            let clients = try await agent.waitForSpans(count: 4) { $0.isClient && $0.isHTTP }
            _ = try await agent.waitForSpans(count: 3) { $0.isServer }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let servers = try agent.spans.filter(\.isServer)
            let byNamed = servers.filter { $0.pid == named.pid }, byOther = servers.filter { $0.pid == other.pid }
            #expect(byNamed.map(\.path) == ["/items/7"], "its policy drops /private")
            #expect(byNamed.first?.name == "GET /items/{item}")
            #expect(Set(byOther.compactMap(\.path)) == ["/private", "/items/7"], "the other policy drops nothing")
            #expect(byOther.first { $0.path == "/items/7" }?.name == "GET /items/{id}", "and names by the default template")
            #expect(clients.count == 4, "curl follows the second policy even after it exited: \(clients.compactMap(\.path))")
            #expect(!servers.contains { $0.pid == unselected.pid })
            #expect(try !agent.spans.contains { [$0.peerPort, $0.localPort].contains(Int(testPort(18519))) }, "no policy selects that port")
            #expect((metrics["events_outside_ports"] ?? 0) > 0)
        }

        @Test func anInvalidEditIsRejectedAndThePreviousPolicyStays() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try startPythonServer(port: testPort(18515), directory: site.path)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18515))]\n")
            try agent.updatePolicy("ports: [{port: \(testPort(18515)), endPort: 70000}]\n")
            try await Task.sleep(for: .milliseconds(500))
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18515))/"])
            let spans = try await agent.waitForSpans { $0.isServer }
            let metrics = try agent.stop()
            #expect(spans.first?.pid == server.pid)
            #expect((metrics["policy_reload_failures"] ?? 0) >= 1)
            #expect(agent.process.errorLog.contains("endPort"))
        }

        @Test func sighupRereadsThePolicyEvenWhenTheFileLooksUnchanged() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try startPythonServer(port: testPort(18542), directory: site.path)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18541))]\n")
            // Rewrite in place with the same size and modification time: only SIGHUP can tell.
            let fixedTime: [FileAttributeKey: Any] = [.modificationDate: Date(timeIntervalSince1970: 1_700_000_000)]
            try FileManager.default.setAttributes(fixedTime, ofItemAtPath: agent.policyPath)
            kill(agent.process.pid, SIGHUP)  // the agent now knows the file by that time
            try await Task.sleep(for: .milliseconds(300))
            let handle = try #require(FileHandle(forWritingAtPath: agent.policyPath))
            try handle.write(contentsOf: Data("ports: [\(testPort(18542))]\n".utf8))
            try handle.close()
            try FileManager.default.setAttributes(fixedTime, ofItemAtPath: agent.policyPath)
            try await Task.sleep(for: .milliseconds(600))
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18542))/"])
            try await Task.sleep(for: .milliseconds(300))
            #expect(try agent.spans.isEmpty, "the watcher cannot see this edit")

            kill(agent.process.pid, SIGHUP)
            try await Task.sleep(for: .milliseconds(300))
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18542))/"])
            let spans = try await agent.waitForSpans { $0.isServer }
            let metrics = try agent.stop()
            #expect(spans.first?.pid == server.pid)
            #expect(metrics["policy_reloads"] == 1)
        }
    }
}
