import Foundation
import Logging
import PeriscopeAgent
import PeriscopeCore

/// The agent running in the test process against the real kernel, collecting spans.
final class AgentHarness: @unchecked Sendable {
    let agent: Agent
    let collector = SpanCollector()
    let policyPath: String
    private var task: Task<Void, Error>?

    /// Writes `policy` to a temporary file, starts the agent on it and waits until its
    /// programs are attached and the policy applied.
    init(policy: String) async throws {
        policyPath = NSTemporaryDirectory() + "periscope-policy-\(UUID().uuidString).yaml"
        try policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
        var file = PolicyFile(path: policyPath)
        let loaded = try file.load()
        var logger = Logger(label: "periscope-agent-test")
        logger.logLevel = .warning
        let collector = self.collector
        agent = Agent(
            configuration: AgentConfiguration(
                policyPath: policyPath, policyCheckInterval: .milliseconds(100),
                processRescanInterval: .seconds(1)
            ),
            policy: loaded, policyFile: file, logger: logger, makeSink: { collector }
        )
        let agent = self.agent
        task = Task { try await agent.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while !agent.control.isReady {
            guard ContinuousClock.now < deadline else { throw TestFailure("the agent did not become ready in 20 s") }
            if let task, task.isCancelled { break }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Replaces the policy file (atomically, as editors and ConfigMaps do).
    func updatePolicy(_ policy: String) throws {
        try policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
    }

    var spans: [Span] { collector.collected }

    /// Waits until `count` spans satisfy `predicate` (or the timeout passes) and returns them.
    @discardableResult
    func waitForSpans(
        count: Int = 1, timeout: Duration = .seconds(10), where predicate: (Span) -> Bool = { _ in true }
    ) async throws -> [Span] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let matching = spans.filter(predicate)
            if matching.count >= count || ContinuousClock.now >= deadline { return matching }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the agent as SIGTERM would and waits for it to finish.
    func stop() async throws {
        agent.control.requestStop()
        try await task?.value
        task = nil
        unlink(policyPath)
    }

    deinit {
        agent.control.requestStop()
        unlink(policyPath)
    }
}
