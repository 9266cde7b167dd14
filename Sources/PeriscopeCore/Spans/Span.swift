/// One finished (or abandoned) operation seen on a connection: an HTTP exchange or a
/// whole TCP connection. Built by `ConnectionTracker`, filtered and named by the
/// pipeline, then printed or exported.
public struct Span: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case server = "SERVER"
        case client = "CLIENT"
        case `internal` = "INTERNAL"
    }

    public enum Status: String, Sendable, Equatable {
        case unset = "UNSET"
        case ok = "OK"
        case error = "ERROR"
    }

    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID?
    public var kind: Kind
    /// `GET /users/{id}`, `GET`, or `tcp` for connection spans. Set by the pipeline.
    public var name: String
    /// Unix time, nanoseconds.
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var status: Status
    /// Why the span ended abnormally (connection closed mid-response, process exited…).
    public var statusMessage: String?

    public var pid: Int32
    public var tid: Int32
    /// Executable path of `pid`, filled in by the agent.
    public var executable: String?
    public var local: SocketAddress
    public var peer: SocketAddress

    /// Present for HTTP spans.
    /// One allocation (`HTTPStorage`): spans are moved through lists and enums on their way
    /// out, and the details are most of a span's size. An operation's becomes its span's.
    public var http: HTTPDetails?
    /// Hands `body` the HTTP details where the span stores them, without copying them; nil,
    /// without calling `body`, for a span that is not HTTP.
    public func withHTTP<Result>(_ body: (borrowing HTTPDetails) throws -> Result) rethrows -> Result? {
        guard let http else { return nil }
        return try body(http)
    }
    /// Hands `body` the HTTP details where the box holds them, to read only. Nil, without
    /// calling `body`, for a span that is not HTTP. `body` must not change them (a change
    /// would be made to a copy of the box, and lost).
    func readHTTPInPlace<Result>(_ body: (inout HTTPDetails) -> Result) -> Result? {
        guard var details = http else { return nil }
        return body(&details)
    }
    /// Whether the span is an HTTP span, without copying its details.
    var hasHTTP: Bool { http != nil }
    /// The request's `traceparent`, without copying the other details.
    var httpTraceparent: String? { http?.traceparent }
    /// Changes the HTTP details where they are stored: copied first only when another span
    /// shares them. Nil, without calling `body`, for a span that is not HTTP.
    mutating func updateHTTP<Result>(_ body: (inout HTTPDetails) -> Result) -> Result? {
        guard var details = http.take() else { return nil }
        defer { http = details }
        return body(&details)
    }
    /// Present for connection spans.
    public var tcp: TCPDetails?
    /// Protocol attributes beyond HTTP's (`rpc.*`, `db.*`, …), under their
    /// semantic-convention names.
    public var protocolAttributes: [Attribute] = []
    /// The context the span's parent passed on (its local parent's, or the incoming
    /// `traceparent`): what parent-based samplers follow. Nil for a root. Not exported.
    public var incoming: TraceContext?
    /// Whether the parent is a span of this node. Not exported.
    public var parentIsLocal = false
    /// The identity of the policy the span's process followed when the span was decided
    /// (`PolicySet.id(ofOwner:)`), filled in by the agent; nil when no one policy is the
    /// process's. Stable across policy changes: the span's export and resource attributes are
    /// that policy's whenever it is delivered, even after its process is gone. Not exported.
    public var policy: PolicyID?
}

/// The public initializer stands apart from the type, so that the module keeps the memberwise
/// one: a span built by it is built where it is stored, not built aside and copied there.
extension Span {
    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID? = nil, kind: Kind, name: String,
        startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, status: Status = .unset,
        statusMessage: String? = nil, pid: Int32, tid: Int32, executable: String? = nil,
        local: SocketAddress, peer: SocketAddress, http: HTTPDetails? = nil, tcp: TCPDetails? = nil
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.name = name
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.status = status
        self.statusMessage = statusMessage
        self.pid = pid
        self.tid = tid
        self.executable = executable
        self.local = local
        self.peer = peer
        self.http = http
        self.tcp = tcp
    }

    public var durationNanos: UInt64 {
        endTimeUnixNano >= startTimeUnixNano ? endTimeUnixNano - startTimeUnixNano : 0
    }
}

/// What a connection span knows: bytes each way over its lifetime.
public struct TCPDetails: Sendable, Equatable {
    /// Bytes the traced process wrote to the connection.
    public var bytesSent: Int
    /// Bytes the traced process read from the connection.
    public var bytesReceived: Int

    public init(bytesSent: Int, bytesReceived: Int) {
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
    }
}
