import PeriscopeCore
import Testing

/// Exited processes keep their executable for spans that finish after them, for a while.
struct ExitedProcessesTests {
    @Test func anExitedProcessKeepsItsExecutableUntilForgotten() {
        var exited = ExitedProcesses()
        exited.add(ProcessEntry(pid: 10, ppid: 1, executable: "/usr/bin/python3.13"), at: 1_000)
        exited.add(ProcessEntry(pid: 11, ppid: 1, executable: "/usr/lib/postgresql/17/bin/postgres"), at: 2_000)
        #expect(exited.executable(of: 10) == "/usr/bin/python3.13")
        #expect(exited.executable(of: 12) == nil)
        exited.forget(before: 1_500)
        #expect(exited.executable(of: 10) == nil)
        #expect(exited.executable(of: 11) == "/usr/lib/postgresql/17/bin/postgres")
    }

    @Test func pastItsCapacityTheEarliestExitsGoFirst() {
        var exited = ExitedProcesses(capacity: 4)
        for pid in Int32(1)...6 { exited.add(ProcessEntry(pid: pid, ppid: 0, executable: "/bin/p\(pid)"), at: UInt64(pid)) }
        #expect(exited.count <= 4)
        #expect(exited.executable(of: 6) == "/bin/p6")
        #expect(exited.executable(of: 5) == "/bin/p5")
        #expect(exited.executable(of: 1) == nil)
    }
}
