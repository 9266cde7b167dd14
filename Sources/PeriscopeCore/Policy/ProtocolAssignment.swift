/// Which decoders run for each process when the policies in force disagree on
/// `protocols`: those of the first policy that selects the process (as `ProcessSelector`
/// would select for that policy alone). Processes no single policy claims, and processes not
/// seen yet, get the union (`PolicySet.merged.protocols`).
///
/// `overrides` holds only the processes whose decoders differ from the union, so with one
/// policy, or policies that agree, it stays empty and costs nothing.
public struct ProtocolAssignment: Sendable, Equatable {
    public private(set) var policies: PolicySet
    /// pid → decoders, for processes whose decoders are not `policies.merged.protocols`.
    public private(set) var overrides: [Int32: Set<TracedProtocol>] = [:]
    private var selections: [ProcessSelection] = []

    public init(policies: PolicySet) {
        self.policies = policies
    }

    /// Decides afresh from a full process list.
    public mutating func assign(processes: [ProcessEntry], agentPID: Int32) {
        overrides = [:]
        guard policies.protocolsVary else {
            selections = []
            return
        }
        selections = policies.policies.map { ProcessSelector.select(processes: processes, policy: $0, selfPID: agentPID) }
        for process in processes { decide(process.pid) }
    }

    /// A process started or replaced its image.
    public mutating func update(with entry: ProcessEntry) {
        guard !selections.isEmpty else { return }
        for index in selections.indices {
            selections[index].update(with: entry, policy: policies.policies[index])
        }
        decide(entry.pid)
    }

    /// A process exited.
    public mutating func remove(pid: Int32) {
        guard !selections.isEmpty else { return }
        for index in selections.indices { selections[index].remove(pid: pid) }
        overrides[pid] = nil
    }

    private mutating func decide(_ pid: Int32) {
        let owner = selections.indices.first { selections[$0].isSelected(pid: pid) }
        let protocols = owner.map { policies.policies[$0].protocols } ?? policies.merged.protocols
        overrides[pid] = protocols == policies.merged.protocols ? nil : protocols
    }
}
