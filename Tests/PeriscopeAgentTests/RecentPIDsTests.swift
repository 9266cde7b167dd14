import Testing
@testable import PeriscopeAgent

/// The capture loop's per-pid decisions, remembered by slot: a pid is answered only for itself.
@Suite struct RecentPIDsTests {
    @Test func remembersEachPidInItsSlotUntilAnotherTakesIt() {
        var recent = RecentPIDs<String>()
        #expect(recent[1000] == nil)
        #expect(!recent.contains(1000))
        recent.remember(1000, as: "/usr/sbin/nginx")
        recent.remember(1001, as: "/usr/bin/wrk")
        #expect(recent[1000] == "/usr/sbin/nginx")
        #expect(recent[1001] == "/usr/bin/wrk")
        // 1064 shares 1000's slot: it replaces it, and 1000 is not mistaken for it.
        recent.remember(1064, as: "/usr/bin/curl")
        #expect(recent[1064] == "/usr/bin/curl")
        #expect(recent[1000] == nil)
        #expect(recent[1001] == "/usr/bin/wrk")
    }

    @Test func forgetsEverythingAtOnce() {
        var recent = RecentPIDs<Void>()
        let pids: [Int32] = [0, 1, 62, 4_194_301, .max]
        for pid in pids { recent.remember(pid, as: ()) }
        for pid in pids { #expect(recent.contains(pid)) }
        recent.forgetAll()
        for pid in pids { #expect(!recent.contains(pid)) }
        // A pid never remembered, however negative, matches no empty slot.
        #expect(!recent.contains(.min))
        #expect(!recent.contains(-1))
    }
}
