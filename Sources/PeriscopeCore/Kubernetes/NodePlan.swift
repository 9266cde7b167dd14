/// What the agent on one node does right now: one policy for the kernel filter and the span
/// pipeline, and the pod attributes of each traced process.
public struct NodePlan: Sendable, Equatable {
    /// A pid above any kernel's `pid_max` (2^22): a policy naming only it selects no process,
    /// where an empty `pids` would select every process.
    public static let noProcess: Int32 = Int32.max

    /// The policies in force merged (see `NodePlanner`), with `pids` the processes of target
    /// containers, or `[noProcess]` when there are none.
    public var policy: Policy
    /// Resource attributes of every traced process, by pid.
    public var decorations: [Int32: PodDecoration]

    public init(policy: Policy, decorations: [Int32: PodDecoration]) {
        self.policy = policy
        self.decorations = decorations
    }

    /// Processes in target containers.
    public var processCount: Int { decorations.count }
}
