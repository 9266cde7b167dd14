/// A trace context the kernel decided (`bpf/propagation.bpf.c`): written into an outgoing
/// request as `traceparent`, or remembered for a server thread so that the calls it makes
/// meanwhile continue its trace. The span it belongs to is reported with exactly these ids,
/// so that what travels on the wire and what the agent reports agree.
public struct KernelTraceContext: Sendable, Equatable {
    public enum Origin: Sendable, Equatable {
        /// A traced server thread read a request: the server span's context.
        case serverRequest
        /// `traceparent` was written into an outgoing request: the client span's context.
        case injectedRequest
        /// The payload could not be edited: the context was written in a TCP header option on
        /// the connection's segments; it is the connection's first request's (client side).
        case optionWritten
        /// A traced server read from a connection whose segments carried an option: the
        /// context of the connection's first request on the server side.
        case optionRead

        /// Whether the context is the connection's first request's rather than the request
        /// this read or write starts.
        public var isPerConnection: Bool { self == .optionWritten || self == .optionRead }
        /// Whether it belongs to the server end.
        public var isServer: Bool { self == .serverRequest || self == .optionRead }
    }

    public var origin: Origin
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID?
    /// The trace's sampling decision: the `traceparent` flag the server read, the thread's
    /// request's, or the node's root sampler for a trace the kernel began.
    public var sampled: Bool
    /// The parent came from a `traceparent` the server read (not a span of its own process).
    public var parentIsRemote: Bool

    public init(
        origin: Origin, traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, sampled: Bool, parentIsRemote: Bool
    ) {
        self.origin = origin
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.sampled = sampled
        self.parentIsRemote = parentIsRemote
    }

    /// The span's context: these ids; its parent is local when it is the server request of
    /// the same process.
    public var spanContext: SpanContext {
        SpanContext(
            traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, sampled: sampled,
            parentIsLocal: parentSpanID != nil && !parentIsRemote
        )
    }
}
