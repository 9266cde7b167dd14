/// A bounded queue that hands out batches by size and by age: a batch is due when
/// `batchSize` elements wait, or when the oldest has waited `maximumDelayNanos`.
/// Elements beyond `capacity` are refused and counted, never blocking the producer.
public struct BatchQueue<Element: Sendable>: Sendable {
    public let capacity: Int
    public let batchSize: Int
    public let maximumDelayNanos: UInt64
    public private(set) var elements: [Element] = []
    /// When the oldest waiting element arrived (monotonic nanoseconds).
    private var oldestArrival: UInt64?
    /// Elements refused because the queue was full.
    public private(set) var dropped: UInt64 = 0

    public init(capacity: Int, batchSize: Int, maximumDelayNanos: UInt64) {
        self.capacity = max(capacity, 1)
        self.batchSize = max(1, min(batchSize, max(capacity, 1)))
        self.maximumDelayNanos = maximumDelayNanos
        elements.reserveCapacity(self.capacity)
    }

    public var count: Int { elements.count }
    public var isEmpty: Bool { elements.isEmpty }

    /// Appends what fits; returns how many were refused.
    @discardableResult
    public mutating func append(contentsOf new: some Collection<Element>, now: UInt64) -> Int {
        let room = capacity - elements.count
        let accepted = min(room, new.count)
        if accepted > 0 {
            if elements.isEmpty { oldestArrival = now }
            elements.append(contentsOf: new.prefix(accepted))
        }
        let refused = new.count - accepted
        dropped += UInt64(refused)
        return refused
    }

    public enum Readiness: Sendable, Equatable {
        case empty
        /// Nothing due before this monotonic time.
        case waitUntil(UInt64)
        case due
    }

    public func readiness(now: UInt64) -> Readiness {
        guard let oldestArrival, !elements.isEmpty else { return .empty }
        if elements.count >= batchSize { return .due }
        let deadline = oldestArrival &+ maximumDelayNanos
        return now >= deadline ? .due : .waitUntil(deadline)
    }

    /// Up to `batchSize` elements, oldest first, whether due or not (shutdown drains this way).
    public mutating func takeBatch(now: UInt64) -> [Element] {
        let batch = Array(elements.prefix(batchSize))
        elements.removeFirst(batch.count)
        // Those left arrived after the batch taken, but when is not recorded: keeping the
        // older time only makes their batch due sooner.
        if elements.isEmpty { oldestArrival = nil }
        return batch
    }

    /// Removes everything, e.g. what shutdown could not send; returns how many.
    public mutating func removeAll() -> Int {
        let count = elements.count
        elements.removeAll(keepingCapacity: true)
        oldestArrival = nil
        return count
    }
}
