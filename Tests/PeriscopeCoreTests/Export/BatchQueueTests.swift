import Testing
@testable import PeriscopeCore

@Suite struct BatchQueueTests {
    @Test func refusesAndCountsWhatDoesNotFit() {
        var queue = BatchQueue<Int>(capacity: 5, batchSize: 2, maximumDelayNanos: 100)
        #expect(queue.append(contentsOf: [1, 2, 3], now: 0) == 0)
        #expect(queue.append(contentsOf: [4, 5, 6, 7], now: 0) == 2)
        #expect(queue.count == 5)
        #expect(queue.dropped == 2)
    }

    @Test func aBatchIsDueBySizeOrByAge() {
        var queue = BatchQueue<Int>(capacity: 10, batchSize: 3, maximumDelayNanos: 100)
        #expect(queue.readiness(now: 0) == .empty)
        queue.append(contentsOf: [1], now: 50)
        #expect(queue.readiness(now: 60) == .waitUntil(150))
        #expect(queue.readiness(now: 150) == .due)
        queue.append(contentsOf: [2, 3], now: 70)
        #expect(queue.readiness(now: 71) == .due)
        #expect(queue.takeBatch(now: 71) == [1, 2, 3])
        #expect(queue.readiness(now: 72) == .empty)
    }

    @Test func batchesAreOldestFirstAndBounded() {
        var queue = BatchQueue<Int>(capacity: 10, batchSize: 4, maximumDelayNanos: 0)
        queue.append(contentsOf: Array(0..<10), now: 0)
        #expect(queue.takeBatch(now: 0) == [0, 1, 2, 3])
        #expect(queue.takeBatch(now: 0) == [4, 5, 6, 7])
        #expect(queue.removeAll() == 2)
        #expect(queue.isEmpty)
    }
}
