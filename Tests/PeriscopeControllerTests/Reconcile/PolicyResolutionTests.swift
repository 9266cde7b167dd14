import PeriscopeAPI
import PeriscopeController
import PeriscopeKube
import Testing

struct PolicyResolutionTests {
    typealias Spec = InstrumentationPolicy.Spec

    /// Names of the pods each policy is in force for, per node.
    static func targets(_ state: ClusterState) -> [String: [String]] {
        let resolution = PolicyResolution(state)
        var result: [String: [String]] = [:]
        for (node, spec) in resolution.desired {
            for target in spec.targets {
                result[node, default: []].append("\(target.name)→\(target.policy)[\(target.containers.map(\.name).joined(separator: ","))]")
            }
        }
        return result
    }

    @Test func selectsRunningPodsOfItsNamespaceOnExistingNodes() {
        let state = ClusterState(
            policies: [Objects.policy("checkout", spec: Spec(["podSelector": Objects.selector(["app": "checkout"]).document]))],
            pods: [
                Objects.pod("running"),
                Objects.pod("pending", phase: "Pending"),
                Objects.pod("succeeded", phase: "Succeeded"),
                Objects.pod("other-namespace", namespace: "billing"),
                Objects.pod("other-app", labels: ["app": "cart"]),
                Objects.pod("unscheduled", node: nil),
                Objects.pod("gone-node", node: "node-z"),
                Objects.pod("on-b", node: "node-b"),
            ],
            nodes: Objects.nodes("node-a", "node-b", "node-c"))
        #expect(Self.targets(state) == ["node-a": ["running→checkout[app]"], "node-b": ["on-b→checkout[app]"]])
        let resolution = PolicyResolution(state)
        #expect(resolution.desired["node-c"] == NodeInstrumentation.Spec(nodeName: "node-c"), "every node gets an object, empty or not")
        #expect(resolution.matchedPods[ObjectKey(namespace: "shop", name: "checkout")] == 2)
        #expect(resolution.desiredNodes[ObjectKey(namespace: "shop", name: "checkout")] == ["node-a", "node-b"])
    }

    static let expressions: [(PodSelector.Expression, [String])] = [
        (.init(key: "tier", operator: "In", values: ["web", "api"]), ["api", "web"]),
        (.init(key: "tier", operator: "NotIn", values: ["web"]), ["api", "none"]),
        (.init(key: "tier", operator: "Exists"), ["api", "web"]),
        (.init(key: "tier", operator: "DoesNotExist"), ["none"]),
    ]

    @Test(arguments: expressions)
    func matchesExpressions(_ expression: PodSelector.Expression, _ expected: [String]) {
        let state = ClusterState(
            policies: [Objects.policy("p", spec: Spec(["podSelector": PodSelector(matchExpressions: [expression]).document]))],
            pods: [
                Objects.pod("web", labels: ["tier": "web"]), Objects.pod("api", labels: ["tier": "api"]), Objects.pod("none", labels: [:]),
            ],
            nodes: Objects.nodes("node-a"))
        let names = PolicyResolution(state).desired["node-a"]!.targets.map(\.name)
        #expect(names == expected)
    }

    @Test func emptySelectorSelectsEveryPodAndContainersNarrow() {
        let state = ClusterState(
            policies: [Objects.policy("all", spec: Spec(["containers": ["app"]]))],
            pods: [Objects.pod("a", labels: [:], containers: ["app", "sidecar"]), Objects.pod("b", labels: ["x": "y"], containers: ["sidecar"])],
            nodes: Objects.nodes("node-a"))
        #expect(Self.targets(state) == ["node-a": ["a→all[app]"]])
    }

    static let conflicts: [(String, [InstrumentationPolicy], [String])] = [
        (
            "a policy naming the container beats one covering all",
            [
                Objects.policy("a-all", spec: Spec(["podSelector": Objects.selector(["app": "checkout", "tier": "web"]).document])),
                Objects.policy("z-named", spec: Spec(["containers": ["app"]])),
            ],
            ["pod→a-all[sidecar]", "pod→z-named[app]"]
        ),
        (
            "the more specific selector wins",
            [
                Objects.policy("a-broad", spec: Spec(["podSelector": Objects.selector(["app": "checkout"]).document])),
                Objects.policy("z-narrow", spec: Spec(["podSelector": Objects.selector(["app": "checkout"], [.init(key: "tier", operator: "Exists")]).document])),
            ],
            ["pod→z-narrow[app,sidecar]"]
        ),
        (
            "otherwise the first name wins",
            [
                Objects.policy("beta", spec: Spec(["podSelector": Objects.selector(["app": "checkout"]).document])),
                Objects.policy("alpha", spec: Spec(["podSelector": Objects.selector(["tier": "web"]).document])),
            ],
            ["pod→alpha[app,sidecar]"]
        ),
        (
            "a policy that is not accepted never wins",
            [
                Objects.policy("alpha", spec: Spec(["ports": [["port": 80], ["port": 80]]])),
                Objects.policy("beta", spec: Spec()),
            ],
            ["pod→beta[app,sidecar]"]
        ),
    ]

    @Test(arguments: conflicts)
    func oneDeterministicWinnerPerContainer(_ name: String, _ policies: [InstrumentationPolicy], _ expected: [String]) {
        let pod = Objects.pod("pod", labels: ["app": "checkout", "tier": "web"], containers: ["app", "sidecar"])
        for order in [policies, policies.reversed()] {
            let state = ClusterState(policies: order, pods: [pod], nodes: Objects.nodes("node-a"))
            #expect(Self.targets(state)["node-a"] == expected, "\(name)")
        }
    }

    @Test func containersWithoutIDsWaitUntilTheyAreKnown() {
        let policies = [Objects.policy("p")]
        let starting = Objects.pod("pod", labels: [:], containers: ["app", "sidecar"], ids: ["sidecar": "containerd://s"])
        let before = ClusterState(policies: policies, pods: [starting, Objects.pod("bare", labels: [:], ids: [:])], nodes: Objects.nodes("node-a"))
        #expect(Self.targets(before) == ["node-a": ["pod→p[sidecar]"]])
        let started = Objects.pod("pod", labels: [:], containers: ["app", "sidecar"])
        let after = ClusterState(policies: policies, pods: [started], nodes: Objects.nodes("node-a"))
        #expect(Self.targets(after) == ["node-a": ["pod→p[app,sidecar]"]])
        #expect(PolicyResolution(after).desired["node-a"]!.targets[0].containers.map(\.id) == ["containerd://pod-app", "containerd://pod-sidecar"])
    }

    static let owners: [(String, (kind: String, name: String)?, [WorkloadObject], NodeInstrumentation.Owner?)] = [
        ("bare pod", nil, [], nil),
        (
            "ReplicaSet of a Deployment", ("ReplicaSet", "checkout-7d9f"),
            [Objects.workload("ReplicaSet", "checkout-7d9f", controller: ("Deployment", "checkout"))], .init(kind: "Deployment", name: "checkout")
        ),
        ("ReplicaSet not cached yet", ("ReplicaSet", "checkout-7d9f"), [], .init(kind: "ReplicaSet", name: "checkout-7d9f")),
        ("ReplicaSet without owner", ("ReplicaSet", "lonely"), [Objects.workload("ReplicaSet", "lonely", controller: nil)], .init(kind: "ReplicaSet", name: "lonely")),
        (
            "Job of a CronJob", ("Job", "nightly-2901"), [Objects.workload("Job", "nightly-2901", controller: ("CronJob", "nightly"))],
            .init(kind: "CronJob", name: "nightly")
        ),
        ("StatefulSet", ("StatefulSet", "db"), [], .init(kind: "StatefulSet", name: "db")),
        (
            "same name in another namespace is not the owner", ("ReplicaSet", "checkout-7d9f"),
            [Objects.workload("ReplicaSet", "checkout-7d9f", namespace: "other", controller: ("Deployment", "x"))],
            .init(kind: "ReplicaSet", name: "checkout-7d9f")
        ),
    ]

    @Test(arguments: owners)
    func resolvesOwnersThroughControllerReferences(
        _ name: String, _ owner: (kind: String, name: String)?, _ workloads: [WorkloadObject], _ expected: NodeInstrumentation.Owner?
    ) {
        let state = ClusterState(policies: [Objects.policy("p")], pods: [Objects.pod("pod", owner: owner)], nodes: Objects.nodes("node-a"), workloads: workloads)
        let target = PolicyResolution(state).desired["node-a"]!.targets.first
        #expect(target?.owner == expected, "\(name)")
        #expect(target?.uid == "uid-shop-pod")
        #expect(target?.labels == ["app": "checkout"])
    }

    @Test func nodeObjectCarriesEachWinningPolicyOnce() {
        let state = ClusterState(
            policies: [
                Objects.policy("web", generation: 3, spec: Spec(["podSelector": Objects.selector(["app": "checkout"]).document, "ports": [["port": 8080]]])),
                Objects.policy("unused", spec: Spec(["podSelector": Objects.selector(["app": "nothing"]).document])),
            ],
            pods: [Objects.pod("a"), Objects.pod("b")], nodes: Objects.nodes("node-a"))
        let spec = PolicyResolution(state).desired["node-a"]!
        #expect(spec.policies.map(\.name) == ["web"])
        #expect(spec.policies[0].generation == 3)
        #expect(spec.policies[0].spec == ["ports": [["port": 8080]]], "the policy's fields as written, without its selector")
        #expect(spec.targets.map(\.name) == ["a", "b"])
    }
}
