import Testing
@testable import PeriscopeCore

@Suite struct ExportPlanTests {
    static let own = ExportConfiguration(otlp: .init(tracesEndpoint: "http://own:4318/v1/traces", metricsEndpoint: "http://own:4318/v1/metrics"))

    static func policies(_ endpoints: [String: String?]) -> PolicySet {
        let names = endpoints.keys.sorted()
        return PolicySet(
            names.map { name in Policy(export: Policy.Export(otlp: endpoints[name]!.map { .init(endpoint: $0) })) }, names: names)
    }

    /// Each policy's telemetry goes to its own export and the agent's, never to another policy's.
    @Test func eachPolicysTelemetryGoesToItsExportAndTheAgentsOnly() {
        let set = Self.policies(["shop/a": "http://shop:4318", "pay/b": "http://pay:4318", "dev/c": nil])
        let plan = ExportPlan(policies: set, configuration: Self.own, policyExportsGetAgentHealth: false)
        #expect(plan.exports.map(\.tracesEndpoint) == ["http://own:4318/v1/traces", "http://pay:4318/v1/traces", "http://shop:4318/v1/traces"])
        let shop = PolicyID(name: "shop/a"), pay = PolicyID(name: "pay/b"), dev = PolicyID(name: "dev/c")
        #expect(plan.destinations(for: shop) == [0, 2])
        #expect(plan.destinations(for: pay) == [0, 1])
        #expect(plan.destinations(for: dev) == [0])
        #expect(plan.destinations(for: nil) == [0], "no policy in particular: the agent's own export only")
        #expect(plan.destinations(for: PolicyID(name: "gone/x")) == [0])
        #expect(plan.agentHealth == [0], "in a cluster, policy exports get their pods' telemetry only")
    }

    @Test func sharedReceiversAreOneExportAndTheAgentsOwnGetsEachSpanOnce() {
        let set = Self.policies(["a/a": "http://own:4318", "b/b": "http://same:4318/", "c/c": "http://same:4318"])
        let plan = ExportPlan(policies: set, configuration: Self.own, policyExportsGetAgentHealth: true)
        #expect(plan.exports.count == 2)
        #expect(plan.destinations(for: PolicyID(name: "a/a")) == [0])
        #expect(plan.destinations(for: PolicyID(name: "b/b")) == [0, 1])
        #expect(plan.destinations(for: PolicyID(name: "c/c")) == [0, 1])
        #expect(plan.agentHealth == [0, 1], "a standalone agent's policy exports get its health too")
    }

    @Test func withoutAnExportOfItsOwnOnlyPoliciesExport() {
        let plan = ExportPlan(
            policies: Self.policies(["x": "http://x:4318"]), configuration: ExportConfiguration(), policyExportsGetAgentHealth: false)
        #expect(plan.own == nil)
        #expect(plan.destinations(for: PolicyID(name: "x")) == [0])
        #expect(plan.destinations(for: nil).isEmpty)
        #expect(ExportPlan(policies: PolicySet([]), configuration: ExportConfiguration(), policyExportsGetAgentHealth: true).exports.isEmpty)
    }

    @Test func resourceAttributesArePerPolicy() {
        let set = PolicySet([Policy(resourceAttributes: ["team": "a"]), Policy()], names: ["a", "b"])
        let plan = ExportPlan(policies: set, configuration: ExportConfiguration(), policyExportsGetAgentHealth: false)
        #expect(plan.resourceAttributes == [PolicyID(name: "a"): ["team": "a"]])
    }
}
