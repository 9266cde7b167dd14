/// What a `TraceAssembler` holds and what it did with the spans it was given.
public struct TraceAssemblerCounters: Sendable, Equatable {
    /// Traces waiting for their root, and the spans they hold.
    public var pendingTraces = 0
    public var pendingSpans = 0
    /// Traces emitted once their root arrived.
    public var tracesCompleted = 0
    /// Traces emitted without their root after the hold time.
    public var tracesExpired = 0
    /// Traces emitted without their root, before the hold time, to bound memory.
    public var tracesEvicted = 0
    /// Spans given a parent by linking.
    public var spansLinked = 0
    /// Spans that joined a trace already emitted.
    public var lateSpans = 0

    public init() {}
}
