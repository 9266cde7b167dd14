import Foundation
import PeriscopeTestSupport
import Testing

/// Processes selected by executable that start after the agent: the kernel selects them at
/// exec, before they return to user space, so a client that connects at once is traced
/// from its first connection however far behind the agent is.
extension KernelTests {
    @Suite struct AgentExecSelectionTests {
        /// psql (through Debian's pg_wrapper, a perl script that execs the real psql) runs
        /// while the agent is stopped: nothing in user space can select it in time, and each
        /// run still gives its statement's client span, with psql's executable.
        @Test func clientsStartedWhileTheAgentCannotRunAreTracedFromTheirFirstConnection() async throws {
            let server = try PostgreSQLServer(port: testPort(18577))
            try server.psql("CREATE TABLE items (id integer PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'tea')")
            let agent = try await AgentHarness(policy: "executables: [\"*/psql\"]\n")
            kill(agent.process.pid, SIGSTOP)
            var psqls: [Int32] = []
            var stopped = true
            defer { if stopped { kill(agent.process.pid, SIGCONT) } }
            for _ in 0..<3 {
                psqls.append(try runChecked("psql", ["-h", "127.0.0.1", "-p", "\(testPort(18577))", "-U", "postgres", "-q", "-c", "SELECT name FROM items WHERE id = 1"]).pid)
            }
            kill(agent.process.pid, SIGCONT)
            stopped = false
            _ = try await agent.waitForSpans(count: 3, timeout: .seconds(15)) { psqls.contains($0.pid) && $0.string("db.system.name") == "postgresql" }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans.filter { psqls.contains($0.pid) }
            #expect(spans.filter(\.isTCP).isEmpty, "decoded from the startup message: \(spans.map { "\($0.pid) \($0.name)" })")
            for pid in psqls {
                let mine = spans.filter { $0.pid == pid }
                #expect(mine.map(\.name) == ["SELECT items"], "\(pid): \(mine.map(\.name))")
                #expect(mine.allSatisfy { $0.isClient && $0.executable.hasSuffix("/psql") && !$0.executable.hasPrefix("/usr/bin/") }, "\(mine.map(\.executable))")
            }
            #expect(try agent.spans.allSatisfy { psqls.contains($0.pid) }, "nothing else is selected")
        }

        /// A python client matched by its executable's file name but excluded by a pattern on
        /// its path: the kernel selects it at exec, the agent undoes that, and nothing of it
        /// is reported, while an unexcluded twin is traced.
        @Test func aProvisionalSelectionTheWholePolicyRefusesIsUndone() async throws {
            let python = URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath()
            let directory = try TemporaryDirectory()
            let excludedCopy = directory.path + "/excluded/" + python.lastPathComponent
            try FileManager.default.createDirectory(atPath: directory.path + "/excluded", withIntermediateDirectories: true)
            try Executables.copy(python.path, to: excludedCopy)
            let server = try TestProcess("python3", ["-m", "http.server", "\(testPort(18578))", "--bind", "127.0.0.1", "--directory", directory.path])
            defer { server.stop() }
            try waitForPort(testPort(18578), of: server)
            let agent = try await AgentHarness(policy: """
                executables: ["\(python.lastPathComponent)"]
                exclude: {executables: ["*/excluded/*"]}
                """)
            let client = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:\(testPort(18578))/').read()"
            let excluded = try runChecked(excludedCopy, ["-c", client]).pid
            let traced = try runChecked(python.path, ["-c", client]).pid
            _ = try await agent.waitForSpans(count: 1, timeout: .seconds(15)) { $0.pid == traced && $0.isClient }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans
            #expect(!spans.contains { $0.pid == excluded }, "\(spans.map { "\($0.pid) \($0.executable)" })")
            #expect(spans.filter { $0.pid == traced }.map(\.name) == ["GET /"])
        }
    }
}
