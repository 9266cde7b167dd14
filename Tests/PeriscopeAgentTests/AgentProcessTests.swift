import Foundation
import Testing

extension KernelTests {
    /// The `periscope-agent` executable itself, as an operator runs it.
    @Suite struct AgentProcessTests {
        static var agentPath: String {
            get throws {
                // The test bundle sits next to the products of the same build.
                let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                for directory in [bundle, bundle.deletingLastPathComponent()] {
                    let candidate = directory.appendingPathComponent("periscope-agent").path
                    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                }
                throw TestFailure("periscope-agent is not built next to \(bundle.path); run `swift build --build-tests` first")
            }
        }

        static func bpftool(_ arguments: [String]) throws -> String {
            try run("bpftool", arguments)
        }

        @Test func printsJSONSpansAndLeavesNothingLoadedAfterSIGTERM() async throws {
            let site = try TemporaryDirectory()
            _ = try site.write("index.html", "hello\n")
            _ = try startPythonServer(port: 18531, directory: site.path)
            let policy = try site.write("policy.yaml", "ports: [18531]\n")
            let agent = try TestProcess(try Self.agentPath, ["--config", policy, "--output", "json"])
            let deadline = ContinuousClock.now + .seconds(20)
            while !agent.log.contains("agent.ready") {
                guard ContinuousClock.now < deadline, agent.isRunning else {
                    throw TestFailure("the agent did not become ready:\n\(agent.log)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try Self.bpftool(["prog", "show"]).contains("periscope_sys_"), "loaded while running")
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:18531/index.html"])
            try await Task.sleep(for: .milliseconds(500))
            let status = agent.stop(signal: SIGTERM)
            #expect(status == 0, "clean exit on SIGTERM")

            let lines = agent.log.split(separator: "\n").filter { $0.hasPrefix("{") }
            let objects = try lines.map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            let server = try #require(objects.first { ($0["kind"] as? String) == "SPAN_KIND_SERVER" })
            #expect((server["traceId"] as? String)?.count == 32)
            #expect((server["spanId"] as? String)?.count == 16)
            #expect(server["startTimeUnixNano"] != nil && server["endTimeUnixNano"] != nil)
            let attributes = try #require(server["attributes"] as? [String: Any])
            #expect(attributes["http.request.method"] as? String == "GET")
            #expect(attributes["url.path"] as? String == "/index.html")
            #expect(attributes["http.response.status_code"] as? Int == 200)
            #expect(attributes["server.port"] as? Int == 18531)
            #expect(attributes["client.address"] as? String == "127.0.0.1")
            #expect(attributes["process.pid"] as? Int != nil)
            #expect(agent.log.contains("periscope_spans_emitted"), "self-metrics printed on exit")

            #expect(!(try Self.bpftool(["prog", "show"]).contains("periscope_")))
            #expect(!(try Self.bpftool(["link", "show"]).contains("periscope_")))
        }

        @Test func refusesToStartOnAnInvalidPolicyNamingTheField() throws {
            let site = try TemporaryDirectory()
            let policy = try site.write("policy.yaml", "ports: [{port: 8000, endPort: 70000}]\n")
            let agent = try TestProcess(try Self.agentPath, ["--config", policy])
            var status: Int32 = 0
            waitpid(agent.pid, &status, 0)
            #expect((status >> 8) & 0xff == 2)
            #expect(agent.log.contains("endPort"))
            #expect(agent.log.contains("70000"))
        }

        @Test func helpDescribesTheCommandLine() throws {
            let help = try run(try Self.agentPath, ["--help"])
            #expect(help.contains("--config"))
            #expect(help.contains("--output"))
            #expect(help.contains("SIGHUP"))
        }
    }
}
