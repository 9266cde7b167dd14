/// One request and what came back for it, with the capture times of its first request
/// byte and last response byte. Produced by `HTTP1ConnectionDecoder`.
public struct HTTP1Exchange: Sendable, Equatable {
    /// The exchange's number on its connection, as `HTTP1ConnectionEvent.requestStarted` gave it.
    public var id: Int
    public var request: HTTP1MessageHead
    /// The final response head (interim 1xx responses are skipped); nil when none arrived.
    public var response: HTTP1MessageHead?
    /// Body bytes without framing.
    public var requestBodySize: Int
    public var responseBodySize: Int
    /// Kernel monotonic time of the read or write that carried the first request byte.
    public var startTimestamp: UInt64
    /// Kernel monotonic time of the read or write that carried the last response byte, or
    /// the time the exchange was abandoned.
    public var endTimestamp: UInt64
    /// The thread that read or wrote the first request byte.
    public var tid: Int32
    /// Why the response did not complete (connection closed, process exited…); nil when it did.
    public var incompleteReason: String?

    public init(
        id: Int = 0, request: HTTP1MessageHead, response: HTTP1MessageHead? = nil, requestBodySize: Int = 0,
        responseBodySize: Int = 0, startTimestamp: UInt64, endTimestamp: UInt64, tid: Int32,
        incompleteReason: String? = nil
    ) {
        self.id = id
        self.request = request
        self.response = response
        self.requestBodySize = requestBodySize
        self.responseBodySize = responseBodySize
        self.startTimestamp = startTimestamp
        self.endTimestamp = endTimestamp
        self.tid = tid
        self.incompleteReason = incompleteReason
    }
}
