import Testing
@testable import PeriscopeAgent
#if canImport(Glibc)
import Glibc
#endif

/// `/proc/<pid>/stat` as the kernel prints it, and as a hostile command name makes it look.
@Suite struct ProcFSTests {
    @Test(arguments: [
        ("1234 (nginx) S 1 1234 1234 0 -1 4194624 120 0 0 0\n", Int32(1)),
        ("77 (a) b (c)) R 4242 77 77 0 -1\n", 4242),
        ("9 ( x ) S  17 9 9\n", 17),
        ("2 (kthreadd) S 0 0 0 0 -1 2129984\n", 0),
        ("5 (last) S 2147483647", Int32.max),
    ])
    func parentIsTheFieldAfterTheStateFollowingTheLastParenthesis(stat: String, parent: Int32) {
        #expect(ProcFS.parentPID(fromStat: Array(stat.utf8)) == parent)
    }

    @Test(arguments: [
        "", "1234 nginx S 1", "1234 (nginx) S", "1234 (nginx) S \n", "1234 (nginx) S x1 2",
        "1234 (nginx) S 2147483648 1", "1234 (nginx) S -1 1", "1234 (nginx) S 99999999999999999999 1",
    ])
    func malformedStatGivesNoParent(stat: String) {
        #expect(ProcFS.parentPID(fromStat: Array(stat.utf8)) == nil)
    }

    @Test func readsThisProcessParent() {
        #expect(ProcFS().parentPID(of: getpid()) == getppid())
    }
}
