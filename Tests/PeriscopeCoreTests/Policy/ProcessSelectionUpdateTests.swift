import Testing
import PeriscopeCore

@Suite struct ProcessSelectionUpdateTests {
    static let policy = try! Policy.parse(yaml: """
        pids: [200]
        executables: [nginx]
        exclude: {pids: [4242], executables: ["*healthcheck*"]}
        """)

    static func initial() -> ProcessSelection {
        ProcessSelector(policy: policy, agentPID: 300).select(ProcessSelectorTests.tree)
    }

    @Test func forkedChildOfATargetIsTargeted() {
        let selection = Self.initial().updating(with: ProcessEntry(pid: 900, ppid: 201, executable: "/usr/bin/python3.11"), policy: Self.policy)
        #expect(selection.isSelected(pid: 900))
    }

    @Test func childOfAnExcludedProcessIsExcluded() {
        let selection = Self.initial()
            .updating(with: ProcessEntry(pid: 900, ppid: 203, executable: "/usr/bin/nginx"), policy: Self.policy)
        #expect(selection.excluded.contains(900))
        #expect(!selection.isSelected(pid: 900))
    }

    @Test func childOfTheAgentIsExcluded() {
        let selection = Self.initial().updating(with: ProcessEntry(pid: 900, ppid: 300, executable: "/bin/sh"), policy: Self.policy)
        #expect(selection.excluded.contains(900))
    }

    @Test func execIntoAnExcludedExecutableExcludesEvenATarget() {
        let selection = Self.initial().updating(with: ProcessEntry(pid: 204, ppid: 201, executable: "/opt/healthcheck"), policy: Self.policy)
        #expect(!selection.isSelected(pid: 204))
        #expect(!selection.targets.contains(204))
        #expect(selection.excluded.contains(204))
    }

    @Test func execIntoAMatchingExecutableTargets() {
        let selection = Self.initial().updating(with: ProcessEntry(pid: 1, ppid: 0, executable: "/usr/sbin/nginx"), policy: Self.policy)
        #expect(selection.isSelected(pid: 1))
    }

    @Test func execAwayFromAMatchingExecutableKeepsOnlyInheritedTargets() {
        var selection = Self.initial()
        selection.update(with: ProcessEntry(pid: 101, ppid: 100, executable: "/bin/sh"), policy: Self.policy)
        #expect(!selection.isSelected(pid: 101))
        selection.update(with: ProcessEntry(pid: 201, ppid: 200, executable: "/bin/sh"), policy: Self.policy)
        #expect(selection.isSelected(pid: 201))
    }

    @Test func unrelatedProcessStaysUnselected() {
        let selection = Self.initial().updating(with: ProcessEntry(pid: 900, ppid: 1, executable: "/bin/ls"), policy: Self.policy)
        #expect(!selection.isSelected(pid: 900))
        #expect(!selection.excluded.contains(900))
    }

    @Test func reusedPIDStartsClean() {
        var selection = Self.initial()
        #expect(selection.isSelected(pid: 203) == false)
        selection.remove(pid: 203)
        selection.update(with: ProcessEntry(pid: 203, ppid: 1, executable: "/usr/sbin/nginx"), policy: Self.policy)
        #expect(selection.isSelected(pid: 203))
    }

    @Test func listedPIDThatStartsLaterIsTargetedAndExcludedPIDIsExcluded() {
        var selection = Self.initial()
        selection.remove(pid: 200)
        selection.update(with: ProcessEntry(pid: 200, ppid: 1, executable: "/bin/ls"), policy: Self.policy)
        selection.update(with: ProcessEntry(pid: 4242, ppid: 200, executable: "/bin/ls"), policy: Self.policy)
        #expect(selection.isSelected(pid: 200))
        #expect(!selection.isSelected(pid: 4242))
    }

    @Test func selfParentedEntryDoesNotInheritFromItself() {
        let selection = Self.initial().updating(with: ProcessEntry(pid: 4243, ppid: 4243, executable: nil), policy: Self.policy)
        #expect(!selection.isSelected(pid: 4243))
        #expect(!selection.excluded.contains(4243))
    }

    @Test func portOnlyPolicyTracksOnlyExclusions() {
        let policy = Policy(exclude: Policy.Exclude(executables: [try! Glob("healthcheck")]))
        var selection = ProcessSelector(policy: policy, agentPID: 300).select(ProcessSelectorTests.tree)
        selection.update(with: ProcessEntry(pid: 900, ppid: 1, executable: "/bin/ls"), policy: policy)
        selection.update(with: ProcessEntry(pid: 901, ppid: 202, executable: "/bin/ls"), policy: policy)
        #expect(selection.isSelected(pid: 900))
        #expect(!selection.isSelected(pid: 901))
        #expect(selection.targets.isEmpty)
    }

    @Test func incrementalUpdatesAgreeWithAFullSelection() {
        var generator = SeededGenerator(seed: 99)
        let executables = ["/usr/sbin/nginx", "/bin/sh", "/opt/healthcheck", "/usr/bin/python3"]
        var processes = [ProcessEntry(pid: 1, ppid: 0, executable: "/sbin/init")]
        var selection = ProcessSelector(policy: Self.policy, agentPID: 300).select(processes)
        for pid in Int32(2)...Int32(400) {
            let parent = processes.randomElement(using: &generator)!.pid
            let entry = ProcessEntry(pid: pid, ppid: parent, executable: executables.randomElement(using: &generator)!)
            processes.append(entry)
            selection.update(with: entry, policy: Self.policy)
        }
        let full = ProcessSelector(policy: Self.policy, agentPID: 300).select(processes)
        for entry in processes {
            #expect(selection.isSelected(pid: entry.pid) == full.isSelected(pid: entry.pid), "pid \(entry.pid)")
        }
    }
}
