import Foundation
import PeriscopeAPI
import PeriscopeController
import PeriscopeCore
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

/// Policies written with the real kubectl (Debian's, over TLS through haproxy) against the test
/// API server, resolved by a running controller.
@Suite(.serialized)
struct KubectlControllerAcceptanceTests {
    static func policy(_ name: String, _ spec: String) -> String {
        """
        apiVersion: periscope.dev/v1alpha1
        kind: InstrumentationPolicy
        metadata: {name: \(name), namespace: shop}
        spec:
        \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func policiesAppliedWithKubectlAreResolvedPerNodeAndReportedOnTheirStatus() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        let client = Harness.client(server)
        for node in ["node-a", "node-b", "node-c"] { try await Harness.createNode(client, node) }
        _ = try await client.create(
            DynamicObject(
                type: .replicaSets,
                metadata: {
                    var metadata = ObjectMeta(name: "checkout-7d9f", namespace: "shop")
                    metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "checkout", uid: "d-1", controller: true)]
                    return metadata
                }()), .replicaSets)
        let replicaSet = OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "checkout-7d9f", uid: "rs-1", controller: true)
        try await Harness.createPod(client, "checkout-1", node: "node-a", labels: ["app": "checkout", "tier": "web"], containers: ["app", "envoy"], owner: replicaSet)
        try await Harness.createPod(client, "checkout-2", node: "node-b", labels: ["app": "checkout", "tier": "web"], owner: replicaSet)
        try await Harness.createPod(client, "cart-1", node: "node-b", labels: ["app": "cart"])
        try await Harness.createPod(client, "starting-1", node: "node-c", labels: ["app": "cart"], containerIDs: false)

        let kubectl = try Kubectl(server: server, namespace: "shop")
        defer { kubectl.proxy.stop() }
        try kubectl.apply(Self.policy("checkout", """
            podSelector: {matchLabels: {app: checkout}}
            containers: [app]
            ports: [{port: 8000, endPort: 9000}, {port: 3000}]
            sampling: {sampler: parentbased_traceidratio, ratio: "0.25"}
            exclude: {routes: [/healthz]}
            """))
        try kubectl.apply(Self.policy("cart", "podSelector: {matchExpressions: [{key: app, operator: In, values: [cart]}]}"))

        let controller = RunningController(server: server)
        try await Harness.eventually("node objects for every node with the right targets") {
            Harness.targets(server) == ["node-a": ["checkout-1→checkout"], "node-b": ["cart-1→cart", "checkout-2→checkout"], "node-c": []]
        }
        let nodeA = try #require(try server.objects(.nodeInstrumentations)["node-a"]?.decode(as: NodeInstrumentation.self))
        let target = try #require(nodeA.spec.targets.first)
        #expect(target.owner == .init(kind: "Deployment", name: "checkout"))
        #expect(target.containers == [.init(name: "app", id: "containerd://checkout-1-app-0")], "only the container the policy names")
        #expect(target.labels == ["app": "checkout", "tier": "web"])
        #expect(target.uid.isEmpty == false)
        #expect(nodeA.spec.policies.map(\.name) == ["checkout"])
        let policy = try nodeA.spec.policies[0].policy()
        #expect(policy.ports == PortSet([3000...3000, 8000...9000]))
        #expect(policy.sampler == .parentBasedTraceIDRatio(0.25))
        #expect(nodeA.spec.policies[0].spec["podSelector"] == nil && nodeA.spec.policies[0].spec["containers"] == nil)
        let managers = (server.objects(.nodeInstrumentations)["node-a"]?.value(atPath: "metadata.managedFields")?.arrayValue ?? []).compactMap { $0["manager"]?.stringValue }
        #expect(managers == ["periscope-controller"])

        try await Harness.eventually("checkout waits for the agents") {
            Harness.status(server, "checkout")?.condition("Ready")?.reason == "Pending"
        }
        #expect(Harness.status(server, "checkout")?.matchedPods == 2)
        #expect(Harness.status(server, "checkout")?.nodes == .init(desired: 2, applied: 0))
        try await Harness.agentsApply(client)
        try await Harness.eventually("both policies Ready once the agents report") {
            Harness.status(server, "checkout")?.condition("Ready")?.status == "True" && Harness.status(server, "cart")?.condition("Ready")?.status == "True"
        }
        #expect(Harness.status(server, "checkout")?.nodes == .init(desired: 2, applied: 2))
        #expect(Harness.status(server, "checkout")?.observedGeneration == 1)
        let table = try kubectl.run(["get", "ipol"])
        #expect(table.status == 0, "\(table.error)")
        for column in ["MATCHED", "NODES", "ACCEPTED", "READY"] { #expect(table.output.contains(column), "\(table.output)") }
        let niTable = try kubectl.run(["get", "ni"])
        #expect(niTable.output.contains("node-b"), "short name ni: \(niTable.output) \(niTable.error)")
        let category = try kubectl.run(["get", "periscope", "-A", "-o", "name"])
        #expect(category.output.contains("nodeinstrumentation.periscope.dev/node-a"), "category: \(category.output) \(category.error)")
        #expect(category.output.contains("instrumentationpolicy.periscope.dev/checkout"), "category: \(category.output)")

        // The pod whose containers had no IDs is picked up when the kubelet reports them.
        var starting = try await client.get(DynamicObject.self, .pods, namespace: "shop", name: "starting-1")
        starting["status"] = Harness.podStatus(name: "starting-1", containers: ["app"], ids: true)
        _ = try await client.update(starting, .pods, subresource: "status")
        try await Harness.eventually("starting-1 targeted once its container ID is known") {
            Harness.targets(server)["node-c"] == ["starting-1→cart"]
        }

        // Editing a selector moves pods between policies.
        try kubectl.apply(Self.policy("cart", "podSelector: {matchExpressions: [{key: app, operator: In, values: [cart, checkout]}, {key: tier, operator: Exists}]}"))
        try await Harness.eventually("the more specific cart selector takes the checkout pods' other containers") {
            Harness.targets(server)["node-a"] == ["checkout-1→cart", "checkout-1→checkout"] && Harness.targets(server)["node-c"] == []
        }
        // The status is written after the node objects of the same decision.
        try await Harness.eventually("cart's status observes the edit") { Harness.status(server, "cart")?.observedGeneration == 2 }

        // A schema-valid but semantically wrong policy: Accepted=False with its reason; the others keep working.
        try kubectl.apply(Self.policy("broken", """
            podSelector: {matchLabels: {app: cart}}
            ports: [{port: 8000, endPort: 9000}, {port: 8080}]
            """))
        try await Harness.eventually("broken is not accepted") {
            Harness.status(server, "broken")?.condition("Accepted")?.reason == "OverlappingPorts"
        }
        let broken = try #require(Harness.status(server, "broken"))
        #expect(broken.condition("Accepted")?.status == "False")
        #expect(broken.condition("Accepted")?.message.contains("spec.ports[0] (8000-9000) and spec.ports[1] (8080) overlap") == true)
        #expect(broken.condition("Ready")?.reason == "NotAccepted")
        #expect(Harness.targets(server)["node-b"] == ["checkout-2→checkout"], "cart-1 has no tier label any more; checkout names app")
        let described = try kubectl.run(["get", "ipol", "broken", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].reason}"])
        #expect(described.output == "OverlappingPorts", "\(described.error)")

        // Deleting a policy removes its targets from every node.
        let deleted = try kubectl.run(["delete", "ipol", "cart"])
        #expect(deleted.status == 0, "\(deleted.error)")
        try await Harness.eventually("cart's targets gone from every node") {
            Harness.targets(server) == ["node-a": ["checkout-1→checkout"], "node-b": ["checkout-2→checkout"], "node-c": []]
        }
        for (_, object) in server.objects(.nodeInstrumentations) {
            let policies = (object.value(atPath: "spec.policies")?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(!policies.contains("cart"))
        }

        // A deleted node loses its object.
        try await client.delete(.nodes, namespace: nil, name: "node-c")
        try await Harness.eventually("node-c's object removed") { server.objects(.nodeInstrumentations)["node-c"] == nil }
        await controller.stop()
    }
}

extension Kubectl {
    func apply(_ yaml: String) throws {
        let result = try run(["apply", "-f", "-"], stdin: yaml)
        #expect(result.status == 0, "kubectl apply: \(result.error)")
    }
}
