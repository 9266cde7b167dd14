import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube

/// `PolicyResolution` kept current one change at a time: the same answer, at the cost of what a
/// change can affect instead of the whole cluster.
///
/// Indexes say what that is: pods by namespace and by node name, the policies selecting each pod
/// and the pods each policy selects, the workloads each pod's owner was resolved through, and for
/// each pod its outcome (node and targets), from which node specs, matched-pod counts and desired
/// nodes are summed. A pod change re-resolves that pod; a policy change re-resolves the pods its
/// old or new selector selects; a node change the pods naming that node; a workload change the
/// pods whose owner went through it. Every change notes the nodes whose spec and the policies
/// whose counts may differ (`dirtyNodes`, `dirtyPolicies`), for the reconciler to look at.
public struct IncrementalResolution: Sendable {
    struct PolicyEntry: Sendable {
        var policy: InstrumentationPolicy
        var verdict: Result<NodeInstrumentation.PolicySettings, PolicyRejection>
    }

    /// What one pod contributes: its node and one target per winning policy (sorted by policy).
    struct PodOutcome: Sendable, Hashable {
        var node: String
        var targets: [NodeInstrumentation.Target]
    }

    private(set) var policies: [ObjectKey: PolicyEntry] = [:]
    private var candidates: [String: [ObjectKey: PolicyResolution.Candidate]] = [:]
    private(set) var pods: [ObjectKey: Pod] = [:]
    private var podsByNamespace: [String: Set<ObjectKey>] = [:]
    private var podsByNodeName: [String: Set<ObjectKey>] = [:]
    public private(set) var nodes: Set<String> = []
    private(set) var workloads: [String: WorkloadObject] = [:]
    private var podsByWorkload: [String: Set<ObjectKey>] = [:]
    private var workloadsOfPod: [ObjectKey: [String]] = [:]

    /// Pod → the accepted policies whose selector matches it (winning or not).
    public private(set) var policiesOfPod: [ObjectKey: Set<ObjectKey>] = [:]
    /// Policy → the pods its selector matches.
    public private(set) var podsOfPolicy: [ObjectKey: Set<ObjectKey>] = [:]
    private var outcomes: [ObjectKey: PodOutcome] = [:]
    /// Node → pods with targets on it.
    private var podsOnNode: [String: Set<ObjectKey>] = [:]
    /// Policy → node → pods it won there.
    private var policyNodes: [ObjectKey: [String: Int]] = [:]
    private var matched: [ObjectKey: Int] = [:]

    /// Nodes whose spec may have changed since the reconciler last looked.
    var dirtyNodes: Set<String> = []
    /// Policies whose verdict, matched pods or nodes may have changed since then.
    var dirtyPolicies: Set<ObjectKey> = []

    public init() {}

    // MARK: Reading

    /// The spec the node's NodeInstrumentation should have (for a node that exists).
    public func spec(forNode node: String) -> NodeInstrumentation.Spec {
        var spec = NodeInstrumentation.Spec(nodeName: node)
        var used: Set<ObjectKey> = []
        for pod in podsOnNode[node] ?? [] {
            guard let outcome = outcomes[pod] else { continue }
            spec.targets += outcome.targets
            for target in outcome.targets { used.insert(ObjectKey(namespace: target.namespace, name: target.policy)) }
        }
        spec.policies = used.sorted().compactMap { try? policies[$0]?.verdict.get() }
        spec.targets.sort { ($0.namespace, $0.name, $0.policy, $0.uid) < ($1.namespace, $1.name, $1.policy, $1.uid) }
        return spec
    }

    public func policy(_ key: ObjectKey) -> InstrumentationPolicy? { policies[key]?.policy }

    public func verdict(of key: ObjectKey) -> Result<NodeInstrumentation.PolicySettings, PolicyRejection>? { policies[key]?.verdict }

    /// Pods a policy is in force for.
    public func matchedPods(of key: ObjectKey) -> Int { matched[key] ?? 0 }

    /// Nodes running those pods, sorted.
    public func desiredNodes(of key: ObjectKey) -> [String] { (policyNodes[key] ?? [:]).keys.sorted() }

    /// Policies in force for at least one pod on the node.
    public func policies(onNode node: String) -> Set<ObjectKey> {
        var keys: Set<ObjectKey> = []
        for pod in podsOnNode[node] ?? [] {
            for target in outcomes[pod]?.targets ?? [] { keys.insert(ObjectKey(namespace: target.namespace, name: target.policy)) }
        }
        return keys
    }

    /// What is held, as the full resolver takes it.
    public var state: ClusterState {
        ClusterState(
            policies: policies.values.map(\.policy).sorted { $0.policyKey < $1.policyKey },
            pods: pods.sorted { $0.key < $1.key }.map(\.value), nodes: nodes.sorted().map { Node(name: $0) },
            workloads: workloads.sorted { $0.key < $1.key }.map(\.value))
    }

    // MARK: Changes

    /// A policy added or changed. A change of status or metadata alone resolves nothing.
    public mutating func upsert(_ policy: InstrumentationPolicy, validate: (InstrumentationPolicy.Spec) -> Result<Policy, PolicyRejection>) {
        let key = policy.policyKey
        let namespace = key.namespace ?? ""
        let old = policies[key]
        if let old, old.policy.spec == policy.spec, old.policy.metadata.generation == policy.metadata.generation {
            policies[key]!.policy = policy
            return
        }
        let verdict: Result<NodeInstrumentation.PolicySettings, PolicyRejection>
        switch validate(policy.spec) {
        case .failure(let rejection): verdict = .failure(rejection)
        case .success: verdict = .success(PolicyResolution.Candidate.settings(of: policy))
        }
        policies[key] = PolicyEntry(policy: policy, verdict: verdict)
        var affected = podsOfPolicy[key] ?? []
        if case .success(let settings) = verdict {
            let candidate = PolicyResolution.Candidate(policy, settings: settings)
            candidates[namespace, default: [:]][key] = candidate
            for pod in podsByNamespace[namespace] ?? [] where candidate.selector.matches(pods[pod]?.metadata.labels ?? [:]) {
                affected.insert(pod)
            }
        } else {
            candidates[namespace]?[key] = nil
        }
        // The nodes carrying its settings change even where no pod moves.
        if (try? old?.verdict.get()) != (try? verdict.get()) {
            for node in (policyNodes[key] ?? [:]).keys { dirtyNodes.insert(node) }
        }
        dirtyPolicies.insert(key)
        for pod in affected { reresolve(pod) }
    }

    public mutating func removePolicy(_ key: ObjectKey) {
        guard policies.removeValue(forKey: key) != nil else { return }
        candidates[key.namespace ?? ""]?[key] = nil
        for node in (policyNodes[key] ?? [:]).keys { dirtyNodes.insert(node) }
        for pod in podsOfPolicy[key] ?? [] { reresolve(pod) }
        podsOfPolicy[key] = nil
        policyNodes[key] = nil
        matched[key] = nil
        dirtyPolicies.remove(key)
    }

    /// A pod added or changed. A change of nothing the resolution reads (a readiness flip, a
    /// new resourceVersion) only updates the cache.
    public mutating func upsert(_ pod: Pod) {
        let key = ObjectKey(namespace: pod.metadata.namespace, name: pod.metadata.name ?? "")
        if let old = pods[key] {
            if !Self.resolutionReadsDiffer(old, pod) {
                pods[key] = pod
                return
            }
            podsByNodeName[old.spec.nodeName ?? ""]?.remove(key)
        }
        pods[key] = pod
        podsByNamespace[key.namespace ?? "", default: []].insert(key)
        podsByNodeName[pod.spec.nodeName ?? "", default: []].insert(key)
        reresolve(key)
    }

    public mutating func removePod(_ key: ObjectKey) {
        guard let pod = pods[key] else { return }
        let old = unresolve(key)
        pods[key] = nil
        podsByNamespace[key.namespace ?? ""]?.remove(key)
        podsByNodeName[pod.spec.nodeName ?? ""]?.remove(key)
        noteChange(key, from: old, to: nil)
    }

    public mutating func upsertNode(_ name: String) {
        guard nodes.insert(name).inserted else { return }
        dirtyNodes.insert(name)
        for pod in podsByNodeName[name] ?? [] { reresolve(pod) }
    }

    public mutating func removeNode(_ name: String) {
        guard nodes.remove(name) != nil else { return }
        dirtyNodes.insert(name)
        for pod in podsByNodeName[name] ?? [] { reresolve(pod) }
    }

    public mutating func upsert(_ workload: WorkloadObject) {
        guard let kind = workload.kind, let name = workload.metadata.name else { return }
        let key = OwnerResolver.key(kind: kind, namespace: workload.metadata.namespace ?? "", name: name)
        let old = workloads.updateValue(workload, forKey: key)
        guard old == nil || old?.controller != workload.controller else { return }
        for pod in podsByWorkload[key] ?? [] { reresolve(pod) }
    }

    public mutating func removeWorkload(kind: String, namespace: String, name: String) {
        let key = OwnerResolver.key(kind: kind, namespace: namespace, name: name)
        guard workloads.removeValue(forKey: key) != nil else { return }
        for pod in podsByWorkload[key] ?? [] { reresolve(pod) }
    }

    // MARK: Resolving one pod

    static func resolutionReadsDiffer(_ old: Pod, _ new: Pod) -> Bool {
        old.metadata.uid != new.metadata.uid || old.metadata.labels != new.metadata.labels
            || old.metadata.annotations != new.metadata.annotations || old.metadata.ownerReferences != new.metadata.ownerReferences
            || old.spec != new.spec || old.status.phase != new.status.phase
            || old.status.containerStatuses?.map { [$0.name, $0.containerID] } != new.status.containerStatuses?.map { [$0.name, $0.containerID] }
    }

    private mutating func reresolve(_ key: ObjectKey) {
        let old = unresolve(key)
        resolve(key)
        noteChange(key, from: old, to: outcomes[key])
    }

    /// Marks the nodes whose targets and the policies whose counts the pod's new outcome changes.
    private mutating func noteChange(_ key: ObjectKey, from old: PodOutcome?, to new: PodOutcome?) {
        guard old != new else { return }
        if let old { dirtyNodes.insert(old.node) }
        if let new { dirtyNodes.insert(new.node) }
        let before = Set((old?.targets ?? []).map(\.policy))
        let after = Set((new?.targets ?? []).map(\.policy))
        let changed = old?.node == new?.node ? before.symmetricDifference(after) : before.union(after)
        for name in changed { dirtyPolicies.insert(ObjectKey(namespace: key.namespace, name: name)) }
    }

    /// Removes the pod's contribution from every index and sum; returns what it was.
    private mutating func unresolve(_ key: ObjectKey) -> PodOutcome? {
        for policy in policiesOfPod.removeValue(forKey: key) ?? [] { podsOfPolicy[policy]?.remove(key) }
        for workload in workloadsOfPod.removeValue(forKey: key) ?? [] {
            podsByWorkload[workload]?.remove(key)
            if podsByWorkload[workload]?.isEmpty == true { podsByWorkload[workload] = nil }
        }
        guard let outcome = outcomes.removeValue(forKey: key) else { return nil }
        podsOnNode[outcome.node]?.remove(key)
        if podsOnNode[outcome.node]?.isEmpty == true { podsOnNode[outcome.node] = nil }
        for target in outcome.targets {
            let policy = ObjectKey(namespace: key.namespace, name: target.policy)
            matched[policy, default: 0] -= 1
            policyNodes[policy, default: [:]][outcome.node, default: 0] -= 1
            if policyNodes[policy]?[outcome.node] == 0 { policyNodes[policy]?[outcome.node] = nil }
        }
        return outcome
    }

    /// The full resolver's rule for one pod; adds its contribution to every index and sum.
    private mutating func resolve(_ key: ObjectKey) {
        guard let pod = pods[key] else { return }
        let namespace = key.namespace ?? ""
        let labels = pod.metadata.labels ?? [:]
        var matching: [PolicyResolution.Candidate] = []
        for (policy, candidate) in candidates[namespace] ?? [:] where candidate.selector.matches(labels) {
            matching.append(candidate)
            podsOfPolicy[policy, default: []].insert(key)
        }
        if !matching.isEmpty { policiesOfPod[key] = Set(matching.map(\.key)) }
        guard pod.status.phase == "Running", let node = pod.spec.nodeName, nodes.contains(node), !matching.isEmpty else { return }
        var ids: [String: String] = [:]
        for status in pod.status.containerStatuses ?? [] {
            if let id = status.containerID, !id.isEmpty { ids[status.name] = id }
        }
        var won: [ObjectKey: [NodeInstrumentation.Container]] = [:]
        for container in (pod.spec.containers ?? []).map(\.name).sorted() {
            guard let id = ids[container] else { continue }
            var winner: PolicyResolution.Candidate?
            for candidate in matching where candidate.covers(container) {
                if winner == nil || candidate.beats(winner!, for: container) { winner = candidate }
            }
            if let winner { won[winner.key, default: []].append(NodeInstrumentation.Container(name: container, id: id)) }
        }
        guard !won.isEmpty else { return }
        var visited: [String] = []
        let owner = OwnerResolver.owner(of: pod) { workload in
            visited.append(workload)
            return workloads[workload]
        }
        for workload in visited { podsByWorkload[workload, default: []].insert(key) }
        if !visited.isEmpty { workloadsOfPod[key] = visited }
        let resourceAnnotations = (pod.metadata.annotations ?? [:]).filter { $0.key.hasPrefix("resource.opentelemetry.io/") }
        var outcome = PodOutcome(node: node, targets: [])
        for (policy, containers) in won.sorted(by: { $0.key < $1.key }) {
            outcome.targets.append(
                NodeInstrumentation.Target(
                    uid: pod.metadata.uid ?? "", namespace: namespace, name: pod.metadata.name ?? "", owner: owner, labels: labels,
                    annotations: resourceAnnotations.isEmpty ? nil : resourceAnnotations, policy: policy.name, containers: containers))
            matched[policy, default: 0] += 1
            policyNodes[policy, default: [:]][node, default: 0] += 1
        }
        outcomes[key] = outcome
        podsOnNode[node, default: []].insert(key)
    }
}
