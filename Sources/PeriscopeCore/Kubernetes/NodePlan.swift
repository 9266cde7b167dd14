/// What the agent on one node does right now: the policies in force, each naming its own
/// processes by pid, and the pod attributes of each traced process.
public struct NodePlan: Sendable, Equatable {
    /// A pid above any kernel's `pid_max` (2^22): a policy naming only it selects no process,
    /// where an empty `pids` would select every process.
    public static let noProcess: Int32 = Int32.max

    /// The policies in force with processes here (see `NodePlanner`), each with `pids` the
    /// processes of its target containers; one policy naming only `noProcess` when there are none.
    public var policies: PolicySet
    /// Resource attributes of every traced process, by pid.
    public var decorations: [Int32: PodDecoration]

    public init(policies: PolicySet, decorations: [Int32: PodDecoration]) {
        self.policies = policies
        self.decorations = decorations
    }

    /// The policies as one, for the kernel filter (see `PolicySet`).
    public var policy: Policy { policies.merged }

    /// Processes in target containers.
    public var processCount: Int { decorations.count }
}
