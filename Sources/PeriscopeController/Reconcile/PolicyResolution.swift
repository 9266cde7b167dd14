import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube

/// The pure resolution of all policies against all pods: which policy is in force for which
/// container, grouped by node.
///
/// A pod is considered when it is `Running` on a node that exists. A policy applies to it when
/// the policy is accepted, lives in the pod's namespace and its `podSelector` matches the pod's
/// labels; it covers the containers listed in `containers` (every container when empty).
/// Containers whose ID the kubelet has not reported yet are left out until it has.
///
/// When several policies cover the same container, exactly one wins, decided in this order:
/// 1. a policy that names the container in `containers` beats one that covers every container;
/// 2. a `podSelector` with more requirements (`matchLabels` entries plus `matchExpressions`)
///    beats one with fewer;
/// 3. the policy whose name sorts first wins.
/// Policies never merge: the winner's settings apply to that container as they are.
public struct PolicyResolution: Sendable {
    /// Per policy: its settings, or why it is not accepted.
    public private(set) var verdicts: [ObjectKey: Result<NodeInstrumentation.PolicySettings, PolicyRejection>] = [:]
    /// The spec every existing node's NodeInstrumentation should have.
    public private(set) var desired: [String: NodeInstrumentation.Spec] = [:]
    /// Per accepted policy: pods it is in force for.
    public private(set) var matchedPods: [ObjectKey: Int] = [:]
    /// Per accepted policy: the nodes those pods run on.
    public private(set) var desiredNodes: [ObjectKey: Set<String>] = [:]

    /// An accepted policy as the winner rule sees it; the incremental resolution uses the same rule.
    struct Candidate: Sendable {
        var key: ObjectKey
        var selector: LabelSelector
        var containers: Set<String>
        var specificity: Int
        var settings: NodeInstrumentation.PolicySettings

        /// Whether this candidate wins `container` over `other` (both cover it).
        func beats(_ other: Candidate, for container: String) -> Bool {
            let named = containers.contains(container)
            let otherNamed = other.containers.contains(container)
            if named != otherNamed { return named }
            if specificity != other.specificity { return specificity > other.specificity }
            return key.name < other.key.name
        }

        func covers(_ container: String) -> Bool { containers.isEmpty || containers.contains(container) }

        init(_ policy: InstrumentationPolicy, settings: NodeInstrumentation.PolicySettings) {
            let podSelector = policy.spec.podSelector
            key = policy.policyKey
            selector = podSelector?.labelSelector ?? LabelSelector()
            containers = Set(policy.spec.containers ?? [])
            specificity = podSelector?.requirementCount ?? 0
            self.settings = settings
        }

        /// The settings a node carries for an accepted policy.
        static func settings(of policy: InstrumentationPolicy) -> NodeInstrumentation.PolicySettings {
            NodeInstrumentation.PolicySettings(
                namespace: policy.policyKey.namespace ?? "", name: policy.policyKey.name, generation: policy.metadata.generation ?? 0,
                spec: policy.spec.policyDocument.withoutPositions)
        }
    }

    /// `validate` may answer from a cache; it must equal `PolicyValidation.validate`.
    public init(
        _ state: ClusterState,
        validate: (InstrumentationPolicy.Spec) -> Result<PeriscopeCore.Policy, PolicyRejection> = PolicyValidation.validate
    ) {
        var byNamespace: [String: [Candidate]] = [:]
        for policy in state.policies {
            let key = policy.policyKey
            switch validate(policy.spec) {
            case .failure(let rejection):
                verdicts[key] = .failure(rejection)
            case .success:
                let settings = Candidate.settings(of: policy)
                verdicts[key] = .success(settings)
                matchedPods[key] = 0
                desiredNodes[key] = []
                byNamespace[key.namespace ?? "", default: []].append(Candidate(policy, settings: settings))
            }
        }
        for node in state.nodes {
            guard let name = node.metadata.name else { continue }
            desired[name] = NodeInstrumentation.Spec(nodeName: name)
        }
        let owners = OwnerResolver(workloads: state.workloads)
        var usedPolicies: [String: Set<ObjectKey>] = [:]
        for pod in state.pods {
            guard pod.status.phase == "Running", let node = pod.spec.nodeName, desired[node] != nil,
                let namespace = pod.metadata.namespace, let candidates = byNamespace[namespace]
            else { continue }
            let labels = pod.metadata.labels ?? [:]
            let matching = candidates.filter { $0.selector.matches(labels) }
            guard !matching.isEmpty else { continue }
            var ids: [String: String] = [:]
            for status in pod.status.containerStatuses ?? [] {
                if let id = status.containerID, !id.isEmpty { ids[status.name] = id }
            }
            var won: [ObjectKey: [NodeInstrumentation.Container]] = [:]
            for container in (pod.spec.containers ?? []).map(\.name).sorted() {
                guard let id = ids[container] else { continue }
                var winner: Candidate?
                for candidate in matching where candidate.covers(container) {
                    if winner == nil || candidate.beats(winner!, for: container) { winner = candidate }
                }
                if let winner { won[winner.key, default: []].append(NodeInstrumentation.Container(name: container, id: id)) }
            }
            guard !won.isEmpty else { continue }
            let owner = owners.owner(of: pod)
            let resourceAnnotations = (pod.metadata.annotations ?? [:]).filter { $0.key.hasPrefix("resource.opentelemetry.io/") }
            for (key, containers) in won.sorted(by: { $0.key < $1.key }) {
                desired[node]!.targets.append(
                    NodeInstrumentation.Target(
                        uid: pod.metadata.uid ?? "", namespace: namespace, name: pod.metadata.name ?? "", owner: owner, labels: labels,
                        annotations: resourceAnnotations.isEmpty ? nil : resourceAnnotations, policy: key.name, containers: containers))
                matchedPods[key, default: 0] += 1
                desiredNodes[key, default: []].insert(node)
                usedPolicies[node, default: []].insert(key)
            }
        }
        for (node, keys) in usedPolicies {
            desired[node]!.policies = keys.sorted().compactMap { try? verdicts[$0]?.get() }
            desired[node]!.targets.sort { ($0.namespace, $0.name, $0.policy, $0.uid) < ($1.namespace, $1.name, $1.policy, $1.uid) }
        }
    }
}
