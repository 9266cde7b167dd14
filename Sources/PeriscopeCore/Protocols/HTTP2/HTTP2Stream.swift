/// What the decoder knows about one HTTP/2 stream while it is in flight.
struct HTTP2Stream: Sendable {
    /// The request's fields a span reads.
    struct Request: Sendable {
        var method: String
        /// `:path`, or `:authority` for CONNECT.
        var target: String
        /// `SpanLinkHints.digest(method:target:)`, for the announcement and the operation.
        var digest: UInt64
        var authority: String?
        var userAgent: String?
        var traceparent: String?
        var contentType: String?
    }

    var id: UInt32
    /// The `RequestStart.exchangeID` that announced the stream: its id, or for a request
    /// upgraded from HTTP/1.1 the one the HTTP/1 decoder announced.
    var exchangeID: UInt64
    /// When and by which thread the request's first byte moved.
    var start: UInt64
    var tid: Int32
    var request: Request
    var requestEnded = false
    /// When the server ended its answer while the client still had its request open (a
    /// server may answer before it read a body): the stream is reported once the request
    /// ends too, so that its body counts, ending here.
    var responseEnd: UInt64?
    var requestBodySize = 0
    var responseBodySize = 0
    /// The final (not 1xx) response's status; nil until it arrives or when it could not be decoded.
    var statusCode: Int?
    var finalResponseSeen = false
    var grpcStatus: Int?
    var grpcMessage: String?
    /// Set for gRPC streams (`content-type: application/grpc…`).
    var requestMessages: GRPCMessageCounter?
    var responseMessages: GRPCMessageCounter?

    var isGRPC: Bool { requestMessages != nil }

    /// DATA payload bytes, `uncaptured` of them not copied.
    mutating func received(_ bytes: ArraySlice<UInt8>, uncaptured: Int, fromClient: Bool) {
        if fromClient {
            requestBodySize += bytes.count + uncaptured
            requestMessages?.consume(bytes)
            requestMessages?.skip(uncaptured)
        } else {
            responseBodySize += bytes.count + uncaptured
            responseMessages?.consume(bytes)
            responseMessages?.skip(uncaptured)
        }
    }
}
