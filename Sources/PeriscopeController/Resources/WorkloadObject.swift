import PeriscopeKube

/// An intermediate owner of pods (ReplicaSet, Job), metadata only: its own controller
/// reference is what resolves a pod's owner to the Deployment or CronJob an operator knows.
public struct WorkloadObject: KubeObject, Hashable {
    public var kind: String?
    public var metadata: ObjectMeta

    public init(kind: String, metadata: ObjectMeta) {
        self.kind = kind
        self.metadata = metadata
    }

    /// The owner reference marked `controller: true`, if any.
    public var controller: OwnerReference? {
        metadata.ownerReferences?.first { $0.controller == true }
    }
}
