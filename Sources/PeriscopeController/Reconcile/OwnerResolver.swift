import PeriscopeAPI
import PeriscopeKube

/// Follows controller references from a pod to the workload an operator knows it by:
/// ReplicaSet → Deployment, Job → CronJob, or any other chain the cached workloads describe.
public struct OwnerResolver: Sendable {
    private var workloads: [String: WorkloadObject] = [:]

    public init(workloads: [WorkloadObject]) {
        for workload in workloads {
            guard let kind = workload.kind, let name = workload.metadata.name else { continue }
            self.workloads[Self.key(kind: kind, namespace: workload.metadata.namespace ?? "", name: name)] = workload
        }
    }

    /// The top controller of a pod; `nil` for a pod without one. An intermediate owner not
    /// (yet) cached stands for itself.
    public func owner(of pod: Pod) -> NodeInstrumentation.Owner? {
        Self.owner(of: pod) { workloads[$0] }
    }

    /// The same walk over any workload lookup; `lookup` is called with each workload key the
    /// answer depends on (a key not found matters too: its arrival changes the answer).
    static func owner(of pod: Pod, lookup: (String) -> WorkloadObject?) -> NodeInstrumentation.Owner? {
        guard var current = pod.metadata.ownerReferences?.first(where: { $0.controller == true }) else { return nil }
        let namespace = pod.metadata.namespace ?? ""
        for _ in 0..<4 {
            guard let workload = lookup(Self.key(kind: current.kind, namespace: namespace, name: current.name)),
                let next = workload.controller
            else { break }
            current = next
        }
        return NodeInstrumentation.Owner(kind: current.kind, name: current.name)
    }

    static func key(kind: String, namespace: String, name: String) -> String { "\(kind)/\(namespace)/\(name)" }
}
