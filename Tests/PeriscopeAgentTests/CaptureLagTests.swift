import Testing
@testable import PeriscopeAgent

/// When the capture thread, running on otherwise idle CPU time, counts as behind: from the
/// ring buffer's positions sampled over time.
@Suite struct CaptureLagTests {
    static let ms: UInt64 = 1_000_000

    /// One look at the ring buffer: when (ms), its read and write positions, and when (ms) the
    /// capture thread last went round its loop.
    struct Look {
        var at: UInt64
        var consumed: UInt64
        var produced: UInt64
        var looped: UInt64? = nil
    }

    /// What `isBehind` answers to each look, in order.
    static func answers(_ looks: [Look], maxWaitMilliseconds: UInt64 = 15, maxBacklogBytes: UInt64 = 256 * 1024, maxLoopMilliseconds: UInt64 = 15) -> [Bool] {
        var lag = CaptureLag(maxWaitNanos: maxWaitMilliseconds * ms, maxBacklogBytes: maxBacklogBytes, maxLoopNanos: maxLoopMilliseconds * ms)
        return looks.map { lag.isBehind(now: $0.at * ms, consumed: $0.consumed, produced: $0.produced, looped: $0.looped.map { $0 * ms }) }
    }

    @Test func dataReadWithinTheWaitIsNeverBehind() {
        // The reader is always one look, 5 ms, behind the writer.
        let looks = (UInt64(1)...100).map { Look(at: $0 * 5, consumed: ($0 - 1) * 1000, produced: $0 * 1000) }
        #expect(!Self.answers(looks).contains(true))
    }

    @Test func dataUnreadForTheWaitIsBehind() {
        let answers = Self.answers([
            Look(at: 0, consumed: 0, produced: 100),
            Look(at: 5, consumed: 50, produced: 300),
            Look(at: 14, consumed: 99, produced: 400),
            // The first 100 bytes were written by 0 ms; one is still unread at 15 ms.
            Look(at: 15, consumed: 99, produced: 500),
            // Read up to what was written by 5 ms: the oldest unread bytes are from 14 ms at most.
            Look(at: 20, consumed: 300, produced: 600),
            Look(at: 29, consumed: 300, produced: 600),
        ])
        #expect(answers == [false, false, false, true, false, true])
    }

    @Test func bytesWaitingAgeWhenNothingNewIsWritten() {
        let answers = Self.answers([
            Look(at: 0, consumed: 0, produced: 100),
            Look(at: 10, consumed: 0, produced: 100),
            Look(at: 16, consumed: 0, produced: 100),
            Look(at: 17, consumed: 100, produced: 100),
        ])
        #expect(answers == [false, false, true, false])
    }

    @Test func aLargeBacklogIsBehindWhateverItsAge() {
        let answers = Self.answers([
            Look(at: 0, consumed: 0, produced: 256 * 1024 - 1),
            Look(at: 1, consumed: 0, produced: 256 * 1024),
        ])
        #expect(answers == [false, true])
    }

    @Test func positionsAreComparedAsCountersThatWrap() {
        let start = UInt64.max - 50
        let answers = Self.answers([
            Look(at: 0, consumed: start, produced: start &+ 100),
            Look(at: 15, consumed: start &+ 49, produced: start &+ 100),
            Look(at: 16, consumed: start &+ 100, produced: start &+ 100),
        ])
        #expect(answers == [false, true, false])
    }

    @Test func theOldestSampleDecidesHoweverLongTheReaderStalls() {
        // Nothing read for a thousand looks, 1 ms apart: the samples kept are bounded, the oldest kept.
        let stalled = (UInt64(0)..<1000).map { Look(at: $0, consumed: 0, produced: ($0 + 1) * 10) }
        let answers = Self.answers(stalled + [Look(at: 1000, consumed: 10_000, produced: 10_000)], maxBacklogBytes: 1 << 40)
        #expect(answers == (0..<1000).map { $0 >= 15 } + [false])
    }

    @Test func aThreadThatHasNotGoneRoundItsLoopInTimeIsBehindWithNothingToRead() {
        let answers = Self.answers([
            Look(at: 100, consumed: 0, produced: 0, looped: 90),
            Look(at: 114, consumed: 0, produced: 0, looped: 100),
            Look(at: 115, consumed: 0, produced: 0, looped: 100),
            Look(at: 130, consumed: 0, produced: 0, looped: 129),
        ], maxWaitMilliseconds: 5, maxLoopMilliseconds: 15)
        #expect(answers == [false, false, true, false])
    }
}
