/// How long `TraceAssembler` waits for the spans of a trace and how much it keeps.
public struct TraceAssemblerConfiguration: Sendable, Equatable {
    /// How long a trace whose root has not arrived is held before it is emitted as is
    /// (`--trace-hold`). Default: 2 s.
    public var holdNanos: UInt64
    /// How long a trace whose root arrived still waits for spans whose events were queued
    /// just after the root's. Default: 50 ms.
    public var settleNanos: UInt64
    /// How long emitted spans stay known, so that spans finishing after their trace left
    /// (a backend answering after the client gave up) still join it. Default: 30 s.
    public var retainNanos: UInt64
    /// The most spans held while their trace is incomplete (`--max-pending-spans`). Beyond
    /// it the oldest traces are emitted as they are and counted in
    /// `TraceAssemblerCounters.tracesEvicted`. Default: 65536.
    public var maxPendingSpans: Int
    /// The most emitted spans kept for late spans to join; each costs about 400 bytes.
    /// Default: 4096 (seconds of history on a typical node, tens of milliseconds at 100k spans/s).
    public var maxRetainedSpans: Int
    /// How far apart the clocks of the two ends of one hop may read for the same moment:
    /// a reader can return before the writer's syscall does. Default: 1 ms.
    public var skewNanos: UInt64

    public init(
        holdNanos: UInt64 = 2_000_000_000, settleNanos: UInt64 = 50_000_000, retainNanos: UInt64 = 30_000_000_000,
        maxPendingSpans: Int = 65536, maxRetainedSpans: Int = 4096, skewNanos: UInt64 = 1_000_000
    ) {
        self.holdNanos = holdNanos
        self.settleNanos = settleNanos
        self.retainNanos = retainNanos
        self.maxPendingSpans = maxPendingSpans
        self.maxRetainedSpans = maxRetainedSpans
        self.skewNanos = skewNanos
    }
}
