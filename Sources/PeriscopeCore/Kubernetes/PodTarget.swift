/// A pod on this node that a policy is in force for, as the controller resolved it: the
/// agent's copy of a `NodeInstrumentation` target, without Kubernetes types.
public struct PodTarget: Sendable, Hashable {
    /// `metadata.uid`.
    public var uid: String
    public var namespace: String
    public var name: String
    /// The top controller (`Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, …) as
    /// the controller resolved it through owner references; nil for a bare pod.
    public var owner: Owner?
    public var labels: [String: String]
    /// The pod's `resource.opentelemetry.io/*` annotations.
    public var annotations: [String: String]
    /// Name of the policy in force, in the pod's namespace.
    public var policy: String
    /// Containers to trace: name and bare runtime ID (64 hex digits).
    public var containers: [Container]

    public init(
        uid: String, namespace: String, name: String, owner: Owner? = nil, labels: [String: String] = [:],
        annotations: [String: String] = [:], policy: String, containers: [Container]
    ) {
        self.uid = uid
        self.namespace = namespace
        self.name = name
        self.owner = owner
        self.labels = labels
        self.annotations = annotations
        self.policy = policy
        self.containers = containers
    }

    /// `namespace/policy`, the key of the policy in force.
    public var policyKey: String { "\(namespace)/\(policy)" }

    public struct Owner: Sendable, Hashable {
        public var kind: String
        public var name: String

        public init(kind: String, name: String) {
            self.kind = kind
            self.name = name
        }
    }

    public struct Container: Sendable, Hashable {
        public var name: String
        public var id: String

        public init(name: String, id: String) {
            self.name = name
            self.id = id
        }
    }
}
