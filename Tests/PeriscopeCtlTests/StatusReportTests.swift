import PeriscopeAPI
import PeriscopeKube
import Testing
@testable import PeriscopeCtl

@Suite struct StatusReportTests {
    static func policy(_ name: String, ready: String, reason: String, pods: Int, applied: Int, desired: Int) -> InstrumentationPolicy {
        InstrumentationPolicy(
            metadata: ObjectMeta(name: name, namespace: "shop"),
            status: InstrumentationPolicyStatus(
                observedGeneration: 1, matchedPods: pods, nodes: .init(desired: desired, applied: applied),
                conditions: [
                    Condition(type: "Accepted", status: "True", reason: "Valid", message: ""),
                    Condition(type: "Ready", status: ready, reason: reason, message: ""),
                ]))
    }

    static func node(_ name: String, generation: Int64, observed: Int64?, error: String? = nil) -> NodeInstrumentation {
        var metadata = ObjectMeta(name: name)
        metadata.generation = generation
        return NodeInstrumentation(
            metadata: metadata, spec: .init(nodeName: name),
            status: .init(observedGeneration: observed, processesAttached: 3, eventsDropped: 7, lastError: error.map { .init(message: $0) }))
    }

    @Test func healthyWhenEveryPolicyIsReadyAndEveryAgentCurrent() {
        let report = StatusReport(
            policies: [Self.policy("web", ready: "True", reason: "Applied", pods: 4, applied: 2, desired: 2)],
            nodes: [Self.node("node-a", generation: 2, observed: 2)])
        #expect(report.isHealthy)
        #expect(report.text == """
            POLICIES
              NAMESPACE  NAME  PODS  NODES  READY  REASON
              shop       web   4     2/2    True   Applied

            AGENTS
              NODE    HEALTH   PROCESSES  DROPS  ERROR
              node-a  Healthy  3          7

            """)
    }

    @Test func degradedWhenAPolicyIsPendingOrAnAgentLagsOrFails() {
        let report = StatusReport(
            policies: [Self.policy("web", ready: "False", reason: "Pending", pods: 1, applied: 0, desired: 1)],
            nodes: [
                Self.node("node-b", generation: 3, observed: 1), Self.node("node-a", generation: 1, observed: 1, error: "attach failed"),
            ])
        #expect(!report.isHealthy)
        #expect(report.agents.map(\.node) == ["node-a", "node-b"])
        #expect(report.agents.map(\.health) == [.failing, .pending])
        #expect(report.text.contains("attach failed"))
    }
}
