import PeriscopeSystem
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct WakeupTests {
    @Test func waitEndsAtTheTimeoutWhenNothingSignals() {
        let wakeup = Wakeup()
        let start = ContinuousClock.now
        #expect(wakeup.wait(nanoseconds: 30_000_000) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(29))
    }

    @Test func aSignalBeforeTheWaitEndsItAtOnceAndIsTakenByIt() {
        let wakeup = Wakeup()
        wakeup.signal()
        let start = ContinuousClock.now
        #expect(wakeup.wait(nanoseconds: 10_000_000_000) == true)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(wakeup.wait(nanoseconds: 1_000_000) == false, "the signal was taken")
    }

    @Test func aSignalFromAnotherThreadWakesTheWaiter() async {
        let wakeup = Wakeup()
        let woken = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            PosixThread.start(name: "test-waiter") {
                continuation.resume(returning: wakeup.wait(nanoseconds: 30_000_000_000))
            }
            usleep(20_000)
            wakeup.signal()
        }
        #expect(woken)
    }
}
