/// Which processes a policy traces right now; built by `ProcessSelector` from a full
/// process list and kept current with `update(with:policy:)` as processes start and exec.
public struct ProcessSelection: Sendable, Equatable {
    /// True when the policy selects by port only: every process not excluded is traced.
    public var allProcesses: Bool
    /// Processes to trace (unused when `allProcesses`). Never overlaps `excluded`.
    public var targets: Set<Int32>
    /// Processes never traced.
    public var excluded: Set<Int32>
    /// The agent's own pid, excluded with its descendants.
    public var agentPID: Int32?
    /// The policy's `pids` and their descendants, excluded ones included. Targets in
    /// here pass their selection on to children they fork; targets matched only by
    /// executable do not. Empty when `allProcesses`.
    public internal(set) var targetLineage: Set<Int32> = []

    public init(allProcesses: Bool, targets: Set<Int32> = [], excluded: Set<Int32> = [], agentPID: Int32? = nil) {
        self.allProcesses = allProcesses
        self.targets = targets
        self.excluded = excluded
        self.agentPID = agentPID
        if let agentPID { self.excluded.insert(agentPID) }
    }

    public func isSelected(pid: Int32) -> Bool {
        !excluded.contains(pid) && (allProcesses || targets.contains(pid))
    }

    /// The selection after `entry` started (fork) or replaced its image (exec).
    /// The entry's own state is decided afresh, as a full `ProcessSelector.select`
    /// would: it is excluded when its pid or executable is excluded or its parent is;
    /// otherwise targeted when its pid is listed, it descends from a listed pid, or its
    /// executable matches. Processes already below `entry` keep their state.
    public func updating(with entry: ProcessEntry, policy: Policy) -> ProcessSelection {
        var copy = self
        copy.update(with: entry, policy: policy)
        return copy
    }

    /// In-place form of `updating(with:policy:)`.
    public mutating func update(with entry: ProcessEntry, policy: Policy) {
        let pid = entry.pid
        let parent: Int32? = entry.ppid == pid ? nil : entry.ppid
        let isExcluded = policy.exclude.pids.contains(pid) || pid == agentPID
            || Self.matches(entry, policy.exclude.executables)
            || parent.map { excluded.contains($0) } == true
        let inLineage = policy.pids.contains(pid) || parent.map { targetLineage.contains($0) } == true

        targets.remove(pid)
        targetLineage.remove(pid)
        excluded.remove(pid)
        if isExcluded { excluded.insert(pid) }
        guard !allProcesses else { return }
        if inLineage { targetLineage.insert(pid) }
        if !isExcluded, inLineage || Self.matches(entry, policy.executables) { targets.insert(pid) }
    }

    /// Forgets a process that exited, so a later process reusing its pid starts clean.
    public mutating func remove(pid: Int32) {
        targets.remove(pid)
        targetLineage.remove(pid)
        excluded.remove(pid)
    }

    static func matches(_ entry: ProcessEntry, _ globs: [Glob]) -> Bool {
        guard let executable = entry.executable, !executable.isEmpty, !globs.isEmpty else { return false }
        return globs.contains { $0.matches(executable: executable) }
    }
}
