import PeriscopeBPF
import PeriscopeCore

extension KernelFilter {
    /// The kernel's share of a policy: which PIDs and ports pass, how much payload is copied.
    /// Targets named by PID (and their descendants) pass their selection on to every child
    /// they fork; targets matched by executable to children until they call exec. Processes
    /// that exec a file whose name an executable pattern fixes are selected by the kernel at
    /// the exec, and confirmed or undone by the agent.
    init(policy: Policy, selection: ProcessSelection, processes: [Int32: ProcessEntry]) {
        let named = Set(policy.pids)
        var targets: [Int32: Inheritance] = [:]
        for pid in selection.targets {
            targets[pid] = Self.descends(pid, fromAnyOf: named, processes: processes) ? .withDescendants : .sameExecutable
        }
        self.init(
            allProcesses: selection.allProcesses,
            targets: targets,
            excluded: selection.excluded,
            portBitmap: policy.ports.isEmpty ? nil : policy.ports.bitmap(),
            captureBytes: policy.capture.payloadBytes
        )
        if !selection.allProcesses { executableNames = Set(policy.executables.compactMap(\.fileName)) }
    }

    /// Walks parent links (bounded, so a corrupt /proc cannot loop forever).
    static func descends(_ pid: Int32, fromAnyOf ancestors: Set<Int32>, processes: [Int32: ProcessEntry]) -> Bool {
        var current = pid
        for _ in 0..<processes.count + 1 {
            if ancestors.contains(current) { return true }
            guard let parent = processes[current]?.ppid, parent != current, parent > 0 else { return false }
            current = parent
        }
        return false
    }
}
