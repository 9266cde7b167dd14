import CPeriscopeBPF
import Foundation
@testable import PeriscopeBPF
import PeriscopeTestSupport
import Testing

/// The counts by slot of the target and excluded PIDs (`pid_slots`), which spare the kernel a
/// hash table look-up at the syscalls of processes not in those maps, stay exact while the agent
/// and the kernel programs (fork, exit) add and remove PIDs.
@Suite(.serialized) struct PIDSlotsTests {
    @Test(arguments: Tracer.Variant.allCases)
    func slotsCountExactlyThePIDsTheAgentAndTheKernelPutInTheMaps(variant: Tracer.Variant) throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(variant: variant)
        try tracer.attach()
        // A target forking children that inherit its selection in the kernel, two of which exit.
        let parent = try TestProcess("sh", ["-c", "sleep 0.3; sleep 0.1 & sleep 0.1 & sleep 3 & wait"])
        defer { _ = parent.stop() }
        try tracer.apply(KernelFilter(
            allProcesses: false, targets: [parent.pid: .withDescendants, 4_000_001: .selfOnly, 4_000_002: .sameExecutable],
            excluded: [4_000_003, 4_000_004]
        ))
        Thread.sleep(forTimeInterval: 0.8)
        let during = tracer.pidSlotCounts()
        #expect(during.targets.count >= 4) // the parent, two PIDs of the filter, the child still sleeping
        #expect(during.counts == Self.expected(targets: during.targets, excluded: during.excluded))
        // Rewritten: one target kept, one changed, the rest pruned, kernel-added children included.
        try tracer.apply(KernelFilter(allProcesses: false, targets: [4_000_001: .withDescendants], excluded: [4_000_004]))
        let after = tracer.pidSlotCounts()
        #expect(Set(after.targets) == [4_000_001])
        #expect(Set(after.excluded) == [4_000_004])
        #expect(after.counts == Self.expected(targets: after.targets, excluded: after.excluded))
        tracer.deselect(4_000_001)
        #expect(tracer.pidSlotCounts().counts == Self.expected(targets: [], excluded: [4_000_004]))
    }

    private static func expected(targets: [UInt32], excluded: [UInt32]) -> [UInt64] {
        var counts = [UInt64](repeating: 0, count: 2 * Int(PERISCOPE_PID_SLOTS))
        for pid in targets { counts[Int(UInt32(PERISCOPE_PID_SLOTS_TARGETS) + periscope_pid_slot(pid))] += 1 }
        for pid in excluded { counts[Int(UInt32(PERISCOPE_PID_SLOTS_EXCLUDED) + periscope_pid_slot(pid))] += 1 }
        return counts
    }
}
