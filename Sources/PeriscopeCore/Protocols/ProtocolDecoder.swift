/// A protocol Periscope decodes: detection from a connection's first bytes, then a pure
/// state machine per connection that takes the bytes each syscall moved and returns the
/// operations (exchanges) it finished. The connection tracker dispatches to decoders and
/// knows no protocol; each protocol lives in its own folder under `Protocols/` with its
/// span mapping, its tests and its fuzz target.
///
/// Decoders never trust their input: malformed bytes give a `.decodeError` and at worst
/// stop decoding of that connection, never a crash; every buffer they keep is bounded.
public protocol ProtocolDecoder: Sendable {
    /// Whether `bytes`, the first bytes seen on `stream` of a connection, are this protocol.
    /// `.needMoreBytes` while too few bytes arrived to tell.
    static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection

    /// Decodes the bytes of one read or write. `segment.gap` bytes moved beyond those
    /// captured were not copied (capture size); a decoder skips them by length or, when it
    /// cannot, reports `.lostSync` and resynchronizes where it can.
    mutating func receive(_ segment: ProtocolSegment, into output: inout [ProtocolOutput])

    /// The connection ended (closed, process gone, agent stopping) at `timestamp`:
    /// operations still open are reported, ended there, with `reason` as their error.
    mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput])
}

/// Which of a connection's two byte streams bytes belong to. The tracker maps the traced
/// process's direction and role onto it: a client writes requests, a server reads them.
public enum MessageStream: Sendable, Equatable {
    /// What the client (the side that connected) sends.
    case requests
    /// What the server (the side that accepted) sends.
    case responses
}

/// What a look at a connection's first bytes says about one protocol.
public enum ProtocolDetection: Sendable, Equatable {
    case matches
    case needMoreBytes
    case doesNotMatch
}

/// The bytes one syscall moved on a connection.
public struct ProtocolSegment: Sendable, Equatable {
    public var stream: MessageStream
    /// The captured prefix of the bytes moved.
    public var bytes: ArraySlice<UInt8>
    /// Bytes moved beyond `bytes` that were not captured.
    public var gap: Int
    /// The last of those `gap` bytes when the capture kept them (at most 64: the end of a
    /// long write, where a writer puts framing); empty when not. A decoder may skip
    /// `gap - tail.count` bytes and read these, or skip all `gap` bytes.
    public var tail: ArraySlice<UInt8> {
        get { tailBytes ?? [] }
        set { tailBytes = newValue.isEmpty ? nil : newValue }
    }
    /// The kernel's walk of the chunk headers in the `gap` bytes (HTTP/1 chunked bodies).
    public var chunkWalk: ChunkWalk?
    /// The kernel's copy of HTTP/2 frame headers and header blocks in the `gap` bytes.
    public var frameWalk: FrameWalk {
        get { walkedFrames ?? FrameWalk() }
        set { walkedFrames = newValue.isEmpty ? nil : newValue }
    }
    /// `tail` and `frameWalk`, nil when empty (the usual segment): an empty slice is still a
    /// reference to release, at every read and write, where nil is none.
    private var tailBytes: ArraySlice<UInt8>?
    private var walkedFrames: FrameWalk?
    /// Kernel monotonic nanoseconds at the syscall's end.
    public var timestamp: UInt64
    public var tid: Int32

    public init(stream: MessageStream, bytes: ArraySlice<UInt8>, gap: Int = 0, timestamp: UInt64, tid: Int32) {
        self.stream = stream
        self.bytes = bytes
        self.gap = gap
        self.timestamp = timestamp
        self.tid = tid
    }
}

/// What a decoder found.
public enum ProtocolOutput: Sendable, Equatable {
    /// A request began and what identifies it is known (HTTP: its head was read or
    /// written). The tracker decides the operation's trace context here, as a tracer inside
    /// the process would when the request starts: outgoing calls made while it is in flight
    /// become its children, and the far end of the connection takes it as parent. Every
    /// operation a decoder reports should be announced this way first, under the same
    /// `exchangeID`; one never announced gets its context only when it ends, too late to
    /// parent anything.
    case requestStarted(RequestStart)
    /// An operation finished (or was abandoned: `status` error with a message).
    case operation(ProtocolOperation)
    /// Bytes that are not this protocol, or break one of its limits; `reason` is a short
    /// stable token (`invalid_frame`, `hpack_table_overflow`, …) counted per protocol.
    case decodeError(reason: String)
    /// Traffic this decoder does not read by design — an encrypted session after an accepted
    /// `SSLRequest`, a compressed session, a replication stream, a message pushed to a
    /// subscriber — not an error: `reason` (`encrypted_session`, …) is counted apart.
    case opaque(reason: String)
    /// One stream lost its place after uncaptured bytes.
    case lostSync
    /// The connection switched protocols (HTTP/1's `101 Switching Protocols`, a tunnel after
    /// a successful `CONNECT`): what follows is no longer this decoder's. Operations before
    /// it were reported first. The decoder takes no more bytes: the connection goes on with
    /// the protocol registered for the switch (`TrackedConnection`), or as one span.
    /// Boxed: rare, and as large as an operation and a segment together, it would make every
    /// output that size, moved whole wherever outputs go.
    indirect case upgraded(ProtocolUpgrade)
}

/// The start of one request on a connection.
public struct RequestStart: Sendable, Equatable {
    /// Unique within the connection's decoder; the finished `ProtocolOperation` repeats it.
    public var exchangeID: UInt64
    /// Kernel monotonic nanoseconds of the read or write that carried the request's first byte.
    public var timestamp: UInt64
    public var tid: Int32
    /// `SpanLinkHints.digest(method:target:)` or the protocol's equivalent: equal digests on
    /// an inbound and an outbound request of one process mean the same request passed through.
    public var requestDigest: UInt64?
    /// The W3C `traceparent` the request carried, verbatim.
    public var traceparent: String?
    /// The same parsed, where the decoder read it from the bytes (HTTP/1): then
    /// `traceparent` is nil and this is what the request carried (nil when malformed).
    public var traceContext: TraceContext?
    /// Identifies the request within its connection where the protocol multiplexes (HTTP/2
    /// stream id): both ends of a connection report the same one.
    public var streamID: UInt32?
}

/// The public initializer stands apart from the type, so that the module keeps the memberwise
/// one: a start built by it is built where it is stored, not built aside and copied there.
extension RequestStart {
    public init(
        exchangeID: UInt64, timestamp: UInt64, tid: Int32, requestDigest: UInt64? = nil,
        traceparent: String? = nil, streamID: UInt32? = nil
    ) {
        self.exchangeID = exchangeID
        self.timestamp = timestamp
        self.tid = tid
        self.requestDigest = requestDigest
        self.traceparent = traceparent
        self.streamID = streamID
    }

    /// The start of an operation never announced, known only when it ended.
    init(_ operation: ProtocolOperation) {
        self.init(
            exchangeID: operation.exchangeID ?? 0, timestamp: operation.start, tid: operation.tid,
            requestDigest: operation.requestDigest, traceparent: operation.traceparent, streamID: operation.streamID
        )
        traceContext = operation.traceContext
    }
}

/// One operation on a connection as a span reports it: an HTTP exchange, an HTTP/2
/// stream, an RPC, a database command. The tracker adds the connection's ends, the span
/// kind (from the connection's role), ids and the trace context.
public struct ProtocolOperation: Sendable, Equatable {
    /// The `RequestStart.exchangeID` that announced it; nil when none did.
    public var exchangeID: UInt64?
    /// Kernel monotonic nanoseconds: when the request's first byte moved and when the
    /// answer's last byte moved (or the operation was abandoned).
    public var start: UInt64
    public var end: UInt64
    /// The thread that moved the request's first byte.
    public var tid: Int32
    /// Span name, e.g. `GET`, `helloworld.Greeter/SayHello`, `SELECT orders`.
    public var name: String
    /// The status of the server's span.
    public var status: Span.Status
    /// The status of the client's span where it differs (an HTTP 4xx is the client's
    /// error, not the server's); nil when the same.
    public var clientStatus: Span.Status?
    public var statusMessage: String?
    /// Set for HTTP exchanges (HTTP/1 and HTTP/2, gRPC included): routes, excluded routes
    /// and the HTTP attributes come from it.
    /// One allocation (`HTTPStorage`): the span the operation becomes takes it as it is.
    public var http: HTTPDetails?
    /// Protocol attributes under their semantic-convention names (`rpc.*`, `db.*`, …),
    /// beyond those `http` gives.
    public var attributes: [Attribute]
    /// Identifies the operation within its connection where the protocol multiplexes
    /// (HTTP/2 stream id): both ends of a connection report the same one.
    public var streamID: UInt32?
    /// A digest of the request (`SpanLinkHints.digest`), linking a proxy's inbound and
    /// outbound spans of the same request.
    public var requestDigest: UInt64?
    /// The W3C `traceparent` the request carried, verbatim.
    public var traceparent: String?
    /// The same parsed, where the decoder read it from the bytes (see `RequestStart`).
    public var traceContext: TraceContext?
}

/// The public initializer stands apart from the type, so that the module keeps the memberwise
/// one: an operation built by it is built where it is stored, not built aside and copied there.
extension ProtocolOperation {
    public init(
        exchangeID: UInt64? = nil, start: UInt64, end: UInt64, tid: Int32, name: String, status: Span.Status = .unset,
        statusMessage: String? = nil, http: HTTPDetails? = nil, attributes: [Attribute] = [],
        streamID: UInt32? = nil, requestDigest: UInt64? = nil, traceparent: String? = nil, clientStatus: Span.Status? = nil
    ) {
        self.exchangeID = exchangeID
        self.start = start
        self.end = end
        self.tid = tid
        self.name = name
        self.status = status
        self.clientStatus = clientStatus
        self.statusMessage = statusMessage
        self.http = http
        self.attributes = attributes
        self.streamID = streamID
        self.requestDigest = requestDigest
        self.traceparent = traceparent
    }
}
