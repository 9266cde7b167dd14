/// Which of several policies in force each process follows: the first that selects it (as
/// `ProcessSelector` would select for that policy alone). Its decoders, routes, route
/// exclusions, query handling and sampler then apply to the process's spans. Processes no
/// single policy claims, and processes not seen yet, follow `PolicySet.merged`.
///
/// With one policy nothing is tracked and every process follows it.
public struct PolicyAssignment: Sendable, Equatable {
    public private(set) var policies: PolicySet
    /// pid → index in `policies.policies`, for processes a policy selects.
    public private(set) var owners: [Int32: Int] = [:]
    /// pid → decoders, for processes whose decoders are not `policies.merged.protocols`.
    public private(set) var protocolOverrides: [Int32: Set<TracedProtocol>] = [:]
    private var selections: [ProcessSelection] = []

    public init(policies: PolicySet) {
        self.policies = policies
    }

    /// Whether processes can follow different policies.
    public var isTracking: Bool { policies.policies.count > 1 }

    /// The index of the policy `pid` follows; nil for the merged policy.
    public func owner(of pid: Int32) -> Int? {
        owners.isEmpty ? nil : owners[pid]
    }

    /// Decides afresh from a full process list.
    public mutating func assign(processes: [ProcessEntry], agentPID: Int32) {
        owners = [:]
        protocolOverrides = [:]
        guard isTracking else { return }
        selections = policies.policies.map { ProcessSelector.select(processes: processes, policy: $0, selfPID: agentPID) }
        for process in processes { decide(process.pid) }
    }

    /// A process started or replaced its image; after a first `assign`.
    public mutating func update(with entry: ProcessEntry) {
        guard isTracking, !selections.isEmpty else { return }
        for index in selections.indices {
            selections[index].update(with: entry, policy: policies.policies[index])
        }
        decide(entry.pid)
    }

    /// A process exited.
    public mutating func remove(pid: Int32) {
        guard isTracking else { return }
        for index in selections.indices { selections[index].remove(pid: pid) }
        owners[pid] = nil
        protocolOverrides[pid] = nil
    }

    private mutating func decide(_ pid: Int32) {
        let owner = selections.indices.first { selections[$0].isSelected(pid: pid) }
        owners[pid] = owner
        let protocols = owner.map { policies.policies[$0].protocols } ?? policies.merged.protocols
        protocolOverrides[pid] = protocols == policies.merged.protocols ? nil : protocols
    }
}
