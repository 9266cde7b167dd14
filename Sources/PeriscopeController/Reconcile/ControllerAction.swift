import PeriscopeAPI
import PeriscopeKube

/// A write the reconcile decided on; the adapter carries it out and reports a `WriteOutcome`.
public enum ControllerAction: Sendable, Hashable {
    /// Write this object's spec: created when missing, else server-side applied.
    case applyNodeInstrumentation(NodeInstrumentation)
    /// The node is gone: remove its object.
    case deleteNodeInstrumentation(name: String)
    /// Replace the policy's status (status subresource).
    case updatePolicyStatus(ObjectKey, InstrumentationPolicyStatus)
}

/// What became of a `ControllerAction`.
public enum WriteOutcome: Sendable, Hashable {
    /// The object as the API server stored it.
    case applied(NodeInstrumentation)
    case deleted(name: String)
    /// The policy's resourceVersion after the write.
    case statusUpdated(ObjectKey, resourceVersion: String, InstrumentationPolicyStatus)
    /// The write failed; the next reconcile decides again from what is observed.
    case failed(ControllerAction)
}
