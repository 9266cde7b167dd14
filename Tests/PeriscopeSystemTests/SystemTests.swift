import Foundation
import PeriscopeSystem
import Synchronization
import Testing

@Suite struct SystemTests {
    @Test func readsFilesUpToTheLimitAndNothingOfWhatCannotBeOpened() throws {
        let path = NSTemporaryDirectory() + "periscope-system-\(UUID().uuidString)"
        try Data("hello world".utf8).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(System.readFile(path, limit: 5) == Array("hello".utf8))
        #expect(System.readFile(path, limit: 100) == Array("hello world".utf8))
        #expect(System.readWholeFile(path, limit: 11) == Array("hello world".utf8))
        #expect(System.readWholeFile(path, limit: 10) == nil, "larger than allowed")
        #expect(System.readFile(path + ".missing", limit: 5) == nil)
        #expect(System.readFile("/proc/self/stat", limit: 4096)?.isEmpty == false, "files whose size /proc does not tell")
    }

    @Test func readsFilesLongerThanItsFirstBuffer() throws {
        let path = NSTemporaryDirectory() + "periscope-system-\(UUID().uuidString)"
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(System.readFile(path, limit: 8 << 20) == content)
        #expect(System.readFile(path, limit: 200_001) == Array(content.prefix(200_001)))
        #expect(System.readFile(path, limit: 0) == [])
        #expect(System.readWholeFile(path, limit: 299_999) == nil)
    }

    /// A signal arriving during a blocking call is retried, not reported as a failure.
    @Test func interruptedCallsAreRetried() throws {
        // No SA_RESTART, so that the kernel does interrupt the read.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0
        sigaction(SIGUSR2, &action, nil)
        defer { signal(SIGUSR2, SIG_DFL) }
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let readEnd = fds[0]
        final class Outcome: @unchecked Sendable {
            var count = 0
            var byte: UInt8 = 0
            var interrupted = false
            var thread: pthread_t?
            let done = DispatchSemaphore(value: 0)
            let started = DispatchSemaphore(value: 0)
        }
        let outcome = Outcome()
        let reader = Thread {
            // The test runner's threads block signals; this one takes SIGUSR2.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            outcome.thread = pthread_self()
            outcome.started.signal()
            var byte: UInt8 = 0
            outcome.count = System.retryingInterrupted { () -> Int in
                let result = read(readEnd, &byte, 1)
                if result < 0, errno == EINTR { outcome.interrupted = true }
                return result
            }
            outcome.byte = byte
            outcome.done.signal()
        }
        reader.start()
        outcome.started.wait()
        usleep(100_000)
        pthread_kill(outcome.thread!, SIGUSR2)
        usleep(100_000)
        #expect(System.writeAll(fds[1], Array("x".utf8)))
        outcome.done.wait()
        #expect(outcome.count == 1 && outcome.byte == UInt8(ascii: "x"))
        #expect(outcome.interrupted, "the signal did interrupt the read")
    }

    @Test func sleepsTheWholeTime() {
        let clock = ContinuousClock()
        let start = clock.now
        System.sleep(nanoseconds: 50_000_000)
        #expect(clock.now - start >= .milliseconds(50))
    }
}

@Suite struct BlockingPoolTests {
    /// Work runs on the pool's own threads, and as many blocking calls as the pool has threads
    /// run at once while the cooperative pool stays free.
    @Test func blockingWorkRunsOnThePoolsThreads() async throws {
        let pool = BlockingPool(threads: 2, name: "test-blocking")
        let name = await pool.run { () -> String in
            String(decoding: System.readFile("/proc/thread-self/comm", limit: 64) ?? [], as: UTF8.self)
        }
        #expect(name == "test-blocking\n")
        // Two blocking calls, each waiting to see the other running: both see it only if the
        // pool runs them at once.
        final class Meeting: Sendable {
            let arrived = Atomic<Int>(0)
            /// Arrives, then waits for the other: only possible when both run at once.
            func meet() -> Bool {
                arrived.add(1, ordering: .relaxed)
                let deadline = ContinuousClock.now + .seconds(10)
                while arrived.load(ordering: .relaxed) < 2, ContinuousClock.now < deadline { usleep(1000) }
                return arrived.load(ordering: .relaxed) >= 2
            }
        }
        let meeting = Meeting()
        async let first = pool.run { meeting.meet() }
        async let second = pool.run { meeting.meet() }
        let met = await (first, second)
        #expect(met == (true, true), "both ran at once")
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await pool.run { () throws -> Int in throw Failure() } }
    }

    @Test func manyCallsAllComplete() async {
        let pool = BlockingPool(threads: 2, name: "test-many")
        let total = await withTaskGroup(of: Int.self) { group in
            for i in 0..<200 { group.addTask { await pool.run { i } } }
            return await group.reduce(0, +)
        }
        #expect(total == (0..<200).reduce(0, +))
    }
}
