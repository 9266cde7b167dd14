/// `status` of an InstrumentationPolicy, written only by the controller.
public struct InstrumentationPolicyStatus: Codable, Sendable, Hashable {
    /// The `metadata.generation` this status describes.
    public var observedGeneration: Int64?
    /// Running pods with at least one container this policy is in force for (it won the
    /// container; see `PolicyResolution` for the rule when several policies match).
    public var matchedPods: Int?
    public var nodes: Nodes?
    /// `Accepted` and `Ready`, in that order.
    public var conditions: [Condition]?

    public init(observedGeneration: Int64? = nil, matchedPods: Int? = nil, nodes: Nodes? = nil, conditions: [Condition]? = nil) {
        self.observedGeneration = observedGeneration
        self.matchedPods = matchedPods
        self.nodes = nodes
        self.conditions = conditions
    }

    /// Nodes running at least one matched pod, and how many of them have applied it.
    public struct Nodes: Codable, Sendable, Hashable {
        /// Nodes whose NodeInstrumentation must carry this policy.
        public var desired: Int
        /// Of those, nodes whose agent reports the current NodeInstrumentation generation.
        public var applied: Int

        public init(desired: Int, applied: Int) {
            self.desired = desired
            self.applied = applied
        }
    }

    public func condition(_ type: String) -> Condition? {
        conditions?.first { $0.type == type }
    }
}
