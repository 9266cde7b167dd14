import Foundation
import PeriscopeKube
import PeriscopeKubeTestServer
import PeriscopeTestSupport
import Testing

/// The agent with exactly the capabilities the DaemonSet grants (and no others in its bounding
/// set, as in a non-privileged container) loads, attaches, traces a request and writes trace
/// context into a traced process's request.
@Suite struct DaemonSetCapabilitiesTests {
    static let port: UInt16 = testPort(18941)

    static func daemonSetCapabilities() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let text = try String(contentsOfFile: "\(root)/manifests/periscope-agent.yaml", encoding: .utf8)
        for case let document as [String: Any] in try JSONValue.untypedDocuments(yaml: text) where document["kind"] as? String == "DaemonSet" {
            let pod = ((document["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
            let container = (pod?["containers"] as? [[String: Any]])?.first
            let capabilities = (container?["securityContext"] as? [String: Any])?["capabilities"] as? [String: Any]
            return capabilities?["add"] as? [String] ?? []
        }
        throw TestFailure("no DaemonSet in manifests/periscope-agent.yaml")
    }

    @Test func tracesWithOnlyTheDaemonSetCapabilities() async throws {
        let capabilities = try Self.daemonSetCapabilities()
        #expect(!capabilities.isEmpty)
        let bounding = "-all," + capabilities.map { "+" + $0.lowercased() }.joined(separator: ",")
        let directory = try TemporaryDirectory()
        let policy = try directory.write("policy.yaml", "ports: [{port: \(Self.port)}, {port: \(Self.port + 1)}]\n")
        let agent = try TestProcess(
            "/usr/bin/setpriv",
            ["--bounding-set", bounding, "--inh-caps", "-all", try AgentHarness.executablePath, "--config", policy, "--output", "json"],
            separateStandardError: true)
        defer { agent.stop() }
        let deadline = ContinuousClock.now + .seconds(20)
        while !agent.errorLog.contains("agent.ready") {
            guard ContinuousClock.now < deadline, agent.isRunning else {
                throw TestFailure("the agent did not start with \(capabilities):\n\(agent.errorLog)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let server = try startPythonServer(port: Self.port, directory: directory.path)
        defer { server.stop() }
        _ = try httpGet(port: Self.port, path: "/")
        let spanDeadline = ContinuousClock.now + .seconds(10)
        while !agent.log.contains("\"server.port\":\(Self.port)"), ContinuousClock.now < spanDeadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(agent.log.contains("\"server.port\":\(Self.port)"), "\(agent.log.suffix(2000))")

        // Trace context is written into traffic with these capabilities too.
        #expect(!agent.errorLog.contains("propagation.unavailable"), "\(agent.errorLog.suffix(2000))")
        let recorder = try RecordingServer(port: Self.port + 1, in: directory)
        try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(Self.port + 1)/propagated"])
        let received = try await recorder.waitForRequests(1)
        #expect(received.first?.traceparents.count == 1, "\(received.first?.text ?? "nothing received")")
    }
}
