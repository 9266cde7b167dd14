import PeriscopeCore
import Testing

/// Which executable a span's process is named by, over the sequences of fork, exec, exit and
/// /proc scans a loaded machine gives: the kernel's word wins over a /proc read that raced
/// an exit, and a process gone keeps its name for spans still on their way.
struct ProcessTableTests {
    static let never: @Sendable () -> String? = { nil }

    /// A CGI child: forked by the python server, it execs a script and exits before /proc is
    /// read. It is named by the interpreter the kernel saw run, never the script.
    @Test func aScriptExecedAndGoneIsNamedByItsInterpreter() {
        var table = ProcessTable()
        table.found(ProcessEntry(pid: 10, ppid: 1, executable: "/usr/bin/python3.13"))
        table.forked(11, parent: 10) { _ in nil }
        #expect(table.executable(of: 11) == "/usr/bin/python3.13")
        let image = ExecutedImage(path: "/usr/bin/python3.13", interpreter: "/usr/bin/python3", parentPID: 10)
        table.executed(11, image: image, procExecutable: Self.never, procParent: { nil })
        table.exited(11, at: 5)
        #expect(table.executable(of: 11) == "/usr/bin/python3.13")
        #expect(table[11] == nil)
    }

    /// Where the kernel could not read the path, /proc is asked, and where the process is
    /// gone too, the interpreter's path as run stands in.
    @Test(arguments: [("/usr/bin/python3.13", "/usr/bin/python3.13"), (nil, "/usr/bin/python3")] as [(String?, String)])
    func anUnreadablePathFallsBackToProcThenTheInterpreter(proc: String?, expected: String) {
        var table = ProcessTable()
        let entry = table.executed(
            12, image: ExecutedImage(path: nil, interpreter: "/usr/bin/python3", parentPID: 0), procExecutable: { proc }, procParent: { 3 }
        )
        #expect(entry.executable == expected && entry.ppid == 3)
    }

    /// A postmaster's backend: known from its fork, with the postmaster's executable; a scan
    /// that reads /proc while it exits (no executable) does not erase that, and once it is
    /// gone from the scan its spans still name it.
    @Test func aScanRacingAnExitKeepsWhatTheKernelSaid() {
        var table = ProcessTable()
        let postgres = "/usr/lib/postgresql/17/bin/postgres"
        table.found(ProcessEntry(pid: 20, ppid: 1, executable: postgres))
        table.forked(21, parent: 20) { _ in nil }
        table.forked(22, parent: 20) { _ in nil }
        let amended = table.replace(withScan: [
            ProcessEntry(pid: 20, ppid: 1, executable: postgres), ProcessEntry(pid: 21, ppid: 20, executable: nil),
        ], at: 100)
        #expect(amended.map(\.executable) == [postgres, postgres])
        #expect(table.executable(of: 21) == postgres)
        #expect(table[22] == nil && table.executable(of: 22) == postgres, "gone since: remembered as exited")
        table.forgetExited(before: 101)
        #expect(table.executable(of: 22) == nil)
    }

    /// A pid reused by a new process is named by the new one.
    @Test func aReusedPidIsNamedByItsNewProcess() {
        var table = ProcessTable()
        table.found(ProcessEntry(pid: 30, ppid: 1, executable: "/usr/bin/curl"))
        table.exited(30, at: 1)
        table.executed(30, image: ExecutedImage(path: "/usr/bin/psql", interpreter: "/usr/bin/psql", parentPID: 1), procExecutable: Self.never, procParent: { nil })
        #expect(table.executable(of: 30) == "/usr/bin/psql")
    }
}
