/// Which of several policies in force each process follows: the first that selects it (as
/// `ProcessSelector` would select for that policy alone). Its decoders, routes, route
/// exclusions, query handling and sampler then apply to the process's spans. Processes no
/// single policy claims, and processes not seen yet, follow `PolicySet.merged`.
///
/// When the set says who follows what (`PolicySet.owners`, from the node plan), that is taken
/// as it is, without running any selector: a process the set does not name follows its parent's
/// policy (a child forked since the plan), or `merged`.
///
/// With one policy nothing is tracked and every process follows it.
public struct PolicyAssignment: Sendable, Equatable {
    public private(set) var policies: PolicySet
    /// pid → index in `policies.policies`, for processes a policy selects.
    public private(set) var owners: [Int32: Int] = [:]
    /// pid → decoders, for processes whose decoders are not `policies.merged.protocols`.
    public private(set) var protocolOverrides: [Int32: Set<TracedProtocol>] = [:]
    /// pid → the only ports whose connections are traced, for processes the kernel sees on
    /// more ports than their policies select. The kernel filters by `PolicySet.merged`, whose
    /// ports are every port once one policy selects processes without ports: a policy naming
    /// one process (every port of it) beside one selecting a port (every process on it) would
    /// otherwise trace every process on every port. A process's connections are traced on the
    /// ports of the policies that select it: the union of their ports (every port when one has
    /// none); with the node plan's owners, its owner's.
    public private(set) var portOverrides: [Int32: PortSet] = [:]
    private var selections: [ProcessSelection] = []
    /// pid → parent, for processes the set's `owners` do not name.
    private var parents: [Int32: Int32] = [:]

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
        portOverrides = [:]
        guard isTracking else { return }
        if let pinned = policies.owners {
            parents = Dictionary(processes.map { ($0.pid, $0.ppid) }, uniquingKeysWith: { first, _ in first })
            for process in processes where process.pid != agentPID {
                decide(process.pid, pinned: pinned)
            }
            return
        }
        selections = policies.policies.map { ProcessSelector.select(processes: processes, policy: $0, selfPID: agentPID) }
        for process in processes { decide(process.pid) }
    }

    /// A process started or replaced its image; after a first `assign`.
    public mutating func update(with entry: ProcessEntry) {
        guard isTracking else { return }
        if let pinned = policies.owners {
            parents[entry.pid] = entry.ppid
            decide(entry.pid, pinned: pinned)
            return
        }
        guard !selections.isEmpty else { return }
        for index in selections.indices {
            selections[index].update(with: entry, policy: policies.policies[index])
        }
        decide(entry.pid)
    }

    /// A process exited.
    public mutating func remove(pid: Int32) {
        guard isTracking else { return }
        for index in selections.indices { selections[index].remove(pid: pid) }
        parents[pid] = nil
        owners[pid] = nil
        protocolOverrides[pid] = nil
        portOverrides[pid] = nil
    }

    /// The owner the set names, else the nearest ancestor's (a bounded walk: `/proc` can hold cycles).
    private mutating func decide(_ pid: Int32, pinned: [Int32: Int]) {
        var current = pid
        var owner: Int?
        for _ in 0..<64 {
            if let named = pinned[current] ?? (current == pid ? nil : owners[current]) {
                owner = named
                break
            }
            guard let parent = parents[current], parent != current, parent > 0 else { break }
            current = parent
        }
        set(owner, for: pid)
        setPorts(owner.map { [$0] } ?? [], for: pid)
    }

    private mutating func decide(_ pid: Int32) {
        let selecting = selections.indices.filter { selections[$0].isSelected(pid: pid) }
        set(selecting.first, for: pid)
        setPorts(selecting, for: pid)
    }

    /// The ports of the policies at `selecting` (indices), when narrower than the merged policy's.
    private mutating func setPorts(_ selecting: [Int], for pid: Int32) {
        var ranges: [ClosedRange<UInt16>] = []
        for index in selecting where policies.policies.indices.contains(index) {
            let ports = policies.policies[index].ports
            // A policy without ports traces every port of what it selects.
            guard !ports.isEmpty else {
                portOverrides[pid] = nil
                return
            }
            ranges += ports.ranges
        }
        // Selected by none: it follows the merged policy, which the kernel already applies.
        let ports = PortSet(ranges)
        portOverrides[pid] = ranges.isEmpty || ports == policies.merged.ports ? nil : ports
    }

    private mutating func set(_ owner: Int?, for pid: Int32) {
        owners[pid] = owner
        let protocols = owner.map { policies.policies[$0].protocols } ?? policies.merged.protocols
        protocolOverrides[pid] = protocols == policies.merged.protocols ? nil : protocols
    }
}
