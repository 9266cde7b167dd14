/// Decides from a process list which processes a policy traces.
///
/// - `excluded`: `exclude.pids`, processes whose executable matches `exclude.executables`,
///   all their descendants, and the agent itself (with its descendants).
/// - When both `pids` and `executables` are empty every other process is selected and
///   only the port filter applies (`allProcesses`).
/// - Otherwise `targets`: `pids` with all their descendants, plus processes whose
///   executable matches `executables`, minus `excluded`.
///
/// Process lists read from `/proc` can be inconsistent (parents missing, pids reused
/// mid-read, even cycles); every walk here visits each pid at most once.
public struct ProcessSelector: Sendable {
    public var policy: Policy
    /// The agent's own pid; never traced.
    public var agentPID: Int32

    public init(policy: Policy, agentPID: Int32) {
        self.policy = policy
        self.agentPID = agentPID
    }

    public func select(_ processes: [ProcessEntry]) -> ProcessSelection {
        var children: [Int32: [Int32]] = [:]
        for entry in processes where entry.pid != entry.ppid {
            children[entry.ppid, default: []].append(entry.pid)
        }

        var excludedRoots = Set(policy.exclude.pids)
        excludedRoots.insert(agentPID)
        for entry in processes where ProcessSelection.matches(entry, policy.exclude.executables) {
            excludedRoots.insert(entry.pid)
        }
        let excluded = Self.descendants(of: excludedRoots, children: children)

        let allProcesses = policy.pids.isEmpty && policy.executables.isEmpty
        var selection = ProcessSelection(allProcesses: allProcesses, excluded: excluded, agentPID: agentPID)
        guard !allProcesses else { return selection }

        selection.targetLineage = Self.descendants(of: Set(policy.pids), children: children)
        var targets = selection.targetLineage
        for entry in processes where ProcessSelection.matches(entry, policy.executables) {
            targets.insert(entry.pid)
        }
        selection.targets = targets.subtracting(excluded)
        return selection
    }

    /// `ProcessSelector(policy:agentPID:).select(_:)` in one call.
    public static func select(processes: [ProcessEntry], policy: Policy, selfPID: Int32) -> ProcessSelection {
        ProcessSelector(policy: policy, agentPID: selfPID).select(processes)
    }

    /// `roots` and everything below them, each pid visited once.
    static func descendants(of roots: Set<Int32>, children: [Int32: [Int32]]) -> Set<Int32> {
        var found = roots
        var queue = Array(roots)
        while let pid = queue.popLast() {
            for child in children[pid] ?? [] where found.insert(child).inserted {
                queue.append(child)
            }
        }
        return found
    }
}
