import PeriscopeAPI
import PeriscopeKube

/// One change the controller's caches saw, as the reconciler takes it.
public enum ClusterChange: Sendable {
    case policy(InstrumentationPolicy)
    case policyDeleted(ObjectKey)
    case pod(Pod)
    case podDeleted(ObjectKey)
    case node(String)
    case nodeDeleted(String)
    /// A ReplicaSet or Job, through which pod owners resolve.
    case workload(WorkloadObject)
    case workloadDeleted(kind: String, namespace: String, name: String)
    case nodeInstrumentation(NodeInstrumentation)
    case nodeInstrumentationDeleted(name: String)
}
