import PeriscopeAPI
import PeriscopeController
import PeriscopeCore
import PeriscopeKube

/// A seeded generator (SplitMix64): the same seed gives the same cluster and the same changes.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Small clusters whose objects collide often: few namespaces, labels, nodes, names and owners,
/// so that random changes keep moving pods between policies, nodes and owners. Some policies
/// are invalid, some pods are not running, on missing nodes or without container IDs.
struct RandomCluster {
    var random: SeededGenerator
    static let namespaces = ["shop", "bank"]
    static let nodeNames = ["node-0", "node-1", "node-2", "node-3"]

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &random)! }

    mutating func labels() -> [String: String] {
        var labels: [String: String] = [:]
        if chance(0.8) { labels["app"] = pick(["a", "b", "c"]) }
        if chance(0.5) { labels["tier"] = pick(["x", "y"]) }
        return labels
    }

    mutating func pod(namespace: String? = nil, name: String? = nil) -> Pod {
        let namespace = namespace ?? pick(Self.namespaces)
        let name = name ?? "pod-\(Int.random(in: 0..<8, using: &random))"
        let containers = chance(0.5) ? ["app"] : ["app", "sidecar"]
        var ids: [String: String] = [:]
        for container in containers where chance(0.85) { ids[container] = "containerd://\(name)-\(container)-\(random.next() % 1000)" }
        let owner: (kind: String, name: String)? = chance(0.3) ? nil : pick([("ReplicaSet", "rs-0"), ("ReplicaSet", "rs-1"), ("Job", "job-0")])
        var pod = Objects.pod(
            name, namespace: namespace, node: chance(0.05) ? nil : pick(Self.nodeNames), labels: labels(), containers: containers, ids: ids,
            phase: chance(0.85) ? "Running" : "Pending", owner: owner)
        pod.metadata.uid = "uid-\(namespace)-\(name)-\(random.next() % 4)"
        if chance(0.2) { pod.metadata.annotations = ["resource.opentelemetry.io/team": pick(["red", "blue"]), "other": "x"] }
        return pod
    }

    mutating func policySpec() -> InstrumentationPolicy.Spec {
        var entries: [DocumentNode.Entry] = []
        if chance(0.85) {
            var matchLabels: [String: String] = [:]
            if chance(0.7) { matchLabels["app"] = pick(["a", "b", "c"]) }
            if chance(0.3) { matchLabels["tier"] = pick(["x", "y"]) }
            var expressions: [PodSelector.Expression] = []
            if chance(0.3) {
                expressions.append(
                    pick([
                        PodSelector.Expression(key: "tier", operator: "Exists"), PodSelector.Expression(key: "app", operator: "In", values: ["a", "b"]),
                        PodSelector.Expression(key: "app", operator: "NotIn", values: ["c"]), PodSelector.Expression(key: "tier", operator: "DoesNotExist"),
                    ]))
            }
            entries.append(.init("podSelector", PodSelector(matchLabels: matchLabels, matchExpressions: expressions.isEmpty ? nil : expressions).document))
        }
        if chance(0.3) {
            entries.append(.init("containers", DocumentNode(.sequence([DocumentNode(stringLiteral: pick(["app", "sidecar"]))]))))
        }
        if chance(0.12) {
            entries.append(.init("ports", [["port": 8000, "endPort": 9000], ["port": 8500]]))
        } else {
            entries.append(.init("ports", [["port": DocumentNode(integerLiteral: Int.random(in: 8000..<8004, using: &random))]]))
        }
        return InstrumentationPolicy.Spec(DocumentNode(.mapping(entries)))
    }

    mutating func policy(namespace: String? = nil, name: String? = nil) -> InstrumentationPolicy {
        Objects.policy(name ?? "policy-\(Int.random(in: 0..<5, using: &random))", namespace: namespace ?? pick(Self.namespaces), spec: policySpec())
    }

    mutating func workload(namespace: String? = nil) -> WorkloadObject {
        let namespace = namespace ?? pick(Self.namespaces)
        if chance(0.6) {
            return Objects.workload(
                "ReplicaSet", pick(["rs-0", "rs-1"]), namespace: namespace,
                controller: chance(0.8) ? ("Deployment", pick(["dep-0", "dep-1"])) : nil)
        }
        return Objects.workload("Job", "job-0", namespace: namespace, controller: chance(0.7) ? ("CronJob", "nightly") : nil)
    }

    mutating func state() -> ClusterState {
        var state = ClusterState()
        for name in Self.nodeNames where chance(0.8) { state.nodes.append(Node(name: name)) }
        var policies: [ObjectKey: InstrumentationPolicy] = [:]
        for _ in 0..<Int.random(in: 0..<7, using: &random) {
            let policy = policy()
            policies[policy.policyKey] = policy
        }
        state.policies = Array(policies.values)
        var pods: [ObjectKey: Pod] = [:]
        for _ in 0..<Int.random(in: 0..<14, using: &random) {
            let pod = pod()
            pods[ObjectKey(namespace: pod.metadata.namespace, name: pod.metadata.name!)] = pod
        }
        state.pods = Array(pods.values)
        var workloads: [String: WorkloadObject] = [:]
        for _ in 0..<Int.random(in: 0..<4, using: &random) {
            let workload = workload()
            workloads["\(workload.kind!)/\(workload.metadata.namespace!)/\(workload.metadata.name!)"] = workload
        }
        state.workloads = Array(workloads.values)
        return state
    }

    /// One random change to `state`: the change as a cache would deliver it.
    mutating func change(_ state: inout ClusterState) -> ClusterChange {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<30:
            // A pod added, replaced, relabelled, restarted, moved: a fresh random pod under a used name.
            let pod = pod()
            let key = ObjectKey(namespace: pod.metadata.namespace, name: pod.metadata.name!)
            state.pods.removeAll { ObjectKey(namespace: $0.metadata.namespace, name: $0.metadata.name!) == key }
            state.pods.append(pod)
            return .pod(pod)
        case 30..<42:
            guard !state.pods.isEmpty else { return change(&state) }
            let index = Int.random(in: 0..<state.pods.count, using: &random)
            var pod = state.pods[index]
            // Only the labels (or only the readiness, which changes nothing resolved).
            if chance(0.7) { pod.metadata.labels = labels() } else { pod.status.containerStatuses = pod.status.containerStatuses?.map { var s = $0; s.ready = !(s.ready ?? false); return s } }
            state.pods[index] = pod
            return .pod(pod)
        case 42..<52:
            guard !state.pods.isEmpty else { return change(&state) }
            let pod = state.pods.remove(at: Int.random(in: 0..<state.pods.count, using: &random))
            return .podDeleted(ObjectKey(namespace: pod.metadata.namespace, name: pod.metadata.name!))
        case 52..<66:
            var policy = policy()
            if let index = state.policies.firstIndex(where: { $0.policyKey == policy.policyKey }) {
                policy.metadata.generation = state.policies[index].metadata.generation! + 1
                policy.status = state.policies[index].status
                state.policies[index] = policy
            } else {
                state.policies.append(policy)
            }
            return .policy(policy)
        case 66..<74:
            guard !state.policies.isEmpty else { return change(&state) }
            let policy = state.policies.remove(at: Int.random(in: 0..<state.policies.count, using: &random))
            return .policyDeleted(policy.policyKey)
        case 74..<82:
            let name = pick(Self.nodeNames)
            if state.nodes.contains(where: { $0.metadata.name == name }) {
                state.nodes.removeAll { $0.metadata.name == name }
                return .nodeDeleted(name)
            }
            state.nodes.append(Node(name: name))
            return .node(name)
        case 82..<92:
            let workload = workload()
            let same = { (other: WorkloadObject) in
                other.kind == workload.kind && other.metadata.namespace == workload.metadata.namespace && other.metadata.name == workload.metadata.name
            }
            state.workloads.removeAll(where: same)
            state.workloads.append(workload)
            return .workload(workload)
        default:
            guard !state.workloads.isEmpty else { return change(&state) }
            let workload = state.workloads.remove(at: Int.random(in: 0..<state.workloads.count, using: &random))
            return .workloadDeleted(kind: workload.kind!, namespace: workload.metadata.namespace!, name: workload.metadata.name!)
        }
    }
}
