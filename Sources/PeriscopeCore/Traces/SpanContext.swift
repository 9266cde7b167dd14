/// The trace context of one span, decided when its request started: its ids, its parent's,
/// and whether its trace is sampled.
public struct SpanContext: Sendable, Equatable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID?
    /// The trace's sampling decision, made by the sampler of the process where it began
    /// (or the incoming `traceparent`'s flag) and passed on to every span of the trace.
    public var sampled: Bool
    /// Whether the parent is a span of this node (its far end or its process), rather than
    /// an incoming `traceparent` or nothing.
    public var parentIsLocal: Bool
    /// Nonzero while the trace depends on a server request still waiting for its caller's
    /// context (see `TraceLinker`): the number of that request's provisional trace.
    var provisional: UInt64

    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID? = nil, sampled: Bool = true, parentIsLocal: Bool = false
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.sampled = sampled
        self.parentIsLocal = parentIsLocal
        self.provisional = 0
    }

    /// What this span passes on to a child: its trace, itself as parent, the decision.
    public var propagated: TraceContext {
        TraceContext(traceID: traceID, parentID: spanID, flags: sampled ? 0x01 : 0x00)
    }

    /// The context the span's parent passed on: what parent-based samplers follow. Nil for a root.
    public var incoming: TraceContext? {
        parentSpanID.map { TraceContext(traceID: traceID, parentID: $0, flags: sampled ? 0x01 : 0x00) }
    }
}
