import PeriscopeAPI
import PeriscopeKube

/// Reconciles InstrumentationPolicy status: whether the policy is accepted, where it must be in
/// force and where the agents have applied it.
///
/// - `Accepted`: `True`/`Valid`, or `False` with a `PolicyRejection` reason.
/// - `Ready`: `True`/`Applied` when the agent of every node running a matched pod reports the
///   policy's current generation in force (`NodeInstrumentation.status.policies`); otherwise `False` with `NotAccepted`,
///   `NoMatchingPods`, `AgentError` (an agent reports a failure) or `Pending` (waiting for agents).
public enum InstrumentationPolicyReconciler {
    public static let accepted = "Accepted"
    public static let ready = "Ready"

    /// The status a policy should have. `existing` is what the node objects hold now;
    /// `lastTransitionTime` carries over from `previous` unless a condition's status changes.
    public static func status(
        of policy: InstrumentationPolicy, resolution: PolicyResolution, existing: [String: NodeInstrumentation],
        previous: InstrumentationPolicyStatus?, now: String
    ) -> InstrumentationPolicyStatus {
        let key = policy.policyKey
        return status(
            of: policy, verdict: resolution.verdicts[key], desiredNodes: (resolution.desiredNodes[key] ?? []).sorted(),
            matchedPods: resolution.matchedPods[key] ?? 0, existing: { existing[$0] }, previous: previous, now: now)
    }

    /// The same from the pieces of a resolution: the policy's verdict, the nodes (sorted) and the
    /// number of pods it is in force for, and the node objects as they are now.
    public static func status(
        of policy: InstrumentationPolicy, verdict: Result<NodeInstrumentation.PolicySettings, PolicyRejection>?, desiredNodes nodes: [String],
        matchedPods pods: Int, existing: (String) -> NodeInstrumentation?, previous: InstrumentationPolicyStatus?, now: String
    ) -> InstrumentationPolicyStatus {
        let key = policy.policyKey
        let generation = policy.metadata.generation ?? 0
        var conditions: [Condition] = []
        var status = InstrumentationPolicyStatus(observedGeneration: generation, matchedPods: 0, nodes: .init(desired: 0, applied: 0))
        switch verdict {
        case .failure(let rejection)?:
            conditions.append(Condition(type: accepted, status: "False", reason: rejection.reason.rawValue, message: rejection.message))
            conditions.append(
                Condition(type: ready, status: "False", reason: "NotAccepted", message: "not in force on any node until the spec is fixed (see Accepted)"))
        case .success?, nil:
            conditions.append(Condition(type: accepted, status: "True", reason: "Valid", message: "the spec is valid"))
            var waiting: [String] = []
            var failing: [(String, String)] = []
            for node in nodes {
                let object = existing(node)
                guard let object, object.hasApplied(namespace: key.namespace ?? "", name: key.name, generation: generation) else {
                    if let error = object?.status?.lastError { failing.append((node, error.message)) } else { waiting.append(node) }
                    continue
                }
            }
            let applied = nodes.count - waiting.count - failing.count
            status.matchedPods = pods
            status.nodes = .init(desired: nodes.count, applied: applied)
            if nodes.isEmpty {
                let namespace = key.namespace ?? ""
                conditions.append(
                    Condition(
                        type: ready, status: "False", reason: "NoMatchingPods",
                        message: "no running pod in namespace \(namespace) matches podSelector and containers (or a more specific policy wins them)"))
            } else if let (node, message) = failing.first {
                conditions.append(
                    Condition(
                        type: ready, status: "False", reason: "AgentError",
                        message: "the agent on \(node) failed to apply it: \(message) (\(failing.count) of \(nodes.count) nodes report errors)"))
            } else if !waiting.isEmpty {
                let names = waiting.prefix(5).joined(separator: ", ") + (waiting.count > 5 ? ", …" : "")
                conditions.append(
                    Condition(
                        type: ready, status: "False", reason: "Pending",
                        message: "applied on \(applied) of \(nodes.count) nodes; waiting for the agents on \(names)"))
            } else {
                conditions.append(
                    Condition(type: ready, status: "True", reason: "Applied", message: "in force for \(pods) pods on \(nodes.count) nodes"))
            }
        }
        status.conditions = conditions.map { condition in
            var condition = condition
            condition.observedGeneration = generation
            let old = previous?.condition(condition.type)
            condition.lastTransitionTime = old?.status == condition.status ? (old?.lastTransitionTime ?? now) : now
            return condition
        }
        return status
    }

    /// Whether two statuses say the same, ignoring transition times.
    public static func sameState(_ lhs: InstrumentationPolicyStatus?, _ rhs: InstrumentationPolicyStatus?) -> Bool {
        guard let lhs, let rhs else { return lhs == nil && rhs == nil }
        let left = lhs.conditions ?? []
        let right = rhs.conditions ?? []
        return lhs.observedGeneration == rhs.observedGeneration && lhs.matchedPods == rhs.matchedPods && lhs.nodes == rhs.nodes
            && left.count == right.count && zip(left, right).allSatisfy { $0.sameState(as: $1) }
    }

    public static func actions(
        policies: [InstrumentationPolicy], resolution: PolicyResolution, existing: [String: NodeInstrumentation],
        currentStatus: (InstrumentationPolicy) -> InstrumentationPolicyStatus?, now: String
    ) -> [ControllerAction] {
        var actions: [ControllerAction] = []
        for policy in policies {
            let previous = currentStatus(policy)
            let status = status(of: policy, resolution: resolution, existing: existing, previous: previous, now: now)
            if !sameState(status, previous) { actions.append(.updatePolicyStatus(policy.policyKey, status)) }
        }
        return actions
    }
}
