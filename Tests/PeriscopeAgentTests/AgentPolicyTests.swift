import Foundation
import PeriscopeCore
import Testing

extension KernelTests {
    @Suite struct AgentPolicyTests {
        @Test func excludedProcessesNeverProduceSpansAndPolicyEditsApplyWithinASecond() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            // A copy of python under a name the policy excludes.
            let renamed = "\(site.path)/healthcheck-server"
            try FileManager.default.copyItem(atPath: try TestProcess.which("python3"), toPath: renamed)

            let byPID = try startPythonServer(port: 18511, directory: site.path)
            let byExecutable = try startPythonServer(port: 18512, directory: site.path, executable: renamed)
            // The shell is excluded; the server it forks after the agent started must stay excluded.
            let parent = try TestProcess("sh", ["-c", "sleep 2; python3 -m http.server 18513 --bind 127.0.0.1 --directory \(site.path); true"])
            let traced = try startPythonServer(port: 18514, directory: site.path)
            let policy = { (excludedPIDs: [Int32]) in
                """
                ports: [{port: 18511, endPort: 18514}]
                exclude:
                  pids: [\(excludedPIDs.map(String.init).joined(separator: ", "))]
                  executables: ["*healthcheck*"]
                """
            }
            let harness = try await AgentHarness(policy: policy([byPID.pid, parent.pid]))
            try waitForPort(18513)

            func get(_ port: UInt16) throws {
                try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])
            }
            for port: UInt16 in [18511, 18512, 18513, 18514] { try get(port) }
            let tracedSpans = try await harness.waitForSpans { $0.kind == .server && $0.local.port == 18514 }
            #expect(tracedSpans.count == 1)
            #expect(tracedSpans.first?.pid == traced.pid)
            try await Task.sleep(for: .milliseconds(300))
            let serverPorts = Set(harness.spans.filter { $0.kind == .server }.map(\.local.port))
            #expect(serverPorts == [18514], "excluded pid, excluded executable and the excluded shell's child stay silent")
            #expect(!harness.spans.contains { $0.pid == byPID.pid || $0.pid == byExecutable.pid })
            // curl is not excluded: its client spans to every server are there.
            #expect(Set(harness.spans.filter { $0.kind == .client }.map(\.peer.port)) == [18511, 18512, 18513, 18514])

            // Edit: exclude the traced server, stop excluding the first one.
            try harness.updatePolicy(policy([traced.pid, parent.pid]))
            try await Task.sleep(for: .seconds(1))
            let before = harness.spans.count
            try get(18514)
            try get(18511)
            let now = try await harness.waitForSpans { $0.kind == .server && $0.local.port == 18511 }
            try await Task.sleep(for: .milliseconds(300))
            try await harness.stop()
            #expect(now.count == 1)
            #expect(now.first?.pid == byPID.pid)
            #expect(!harness.spans[before...].contains { $0.kind == .server && $0.local.port == 18514 })
            #expect(harness.agent.control.metrics.policyReloads == 1)
        }

        @Test func anInvalidEditIsRejectedAndThePreviousPolicyStays() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            let server = try startPythonServer(port: 18515, directory: site.path)
            let harness = try await AgentHarness(policy: "ports: [18515]\n")
            try harness.updatePolicy("ports: [{port: 18515, endPort: 70000}]\n")
            try await Task.sleep(for: .milliseconds(500))
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:18515/"])
            let spans = try await harness.waitForSpans { $0.kind == .server }
            try await harness.stop()
            #expect(spans.first?.pid == server.pid)
            #expect(harness.agent.control.metrics.policyReloadFailures >= 1)
        }
    }
}
