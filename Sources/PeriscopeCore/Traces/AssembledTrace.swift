/// Spans of one trace that `TraceAssembler` emits together, parents before children.
public struct AssembledTrace: Sendable, Equatable {
    /// Why the spans were emitted now.
    public enum Completion: Sendable, Equatable {
        /// The root arrived.
        case complete
        /// Their parent was emitted earlier; these finished after it left.
        case late
        /// The root did not arrive within the hold time.
        case expired
        /// Emitted before the hold time to bound memory.
        case evicted
    }

    /// Parents before children; all share one trace id.
    public var spans: [Span]
    /// The W3C context the trace came in with, if any: what parent-based samplers follow,
    /// so every span of the trace gets the same decision.
    public var incoming: TraceContext?
    public var completion: Completion

    public init(spans: [Span], incoming: TraceContext? = nil, completion: Completion) {
        self.spans = spans
        self.incoming = incoming
        self.completion = completion
    }

    public var traceID: TraceID? { spans.first?.traceID }
}
