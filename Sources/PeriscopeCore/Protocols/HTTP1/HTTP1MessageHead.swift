/// The start line and the headers Periscope reads from an HTTP/1.x message head.
///
/// Only the headers spans and framing need are kept; everything else is skipped.
public struct HTTP1MessageHead: Sendable, Equatable {
    public enum StartLine: Sendable, Equatable {
        /// `GET /path?q HTTP/1.1`: the method and the request target as sent.
        case request(method: String, target: String)
        /// `HTTP/1.1 200 OK`.
        case response(statusCode: Int, reason: String)
    }

    public var startLine: StartLine
    /// `HTTP/1.1` → "1.1".
    public var version: String
    public var host: String?
    public var userAgent: String?
    public var traceparent: String?
    /// The value of `Content-Length`, when present and valid.
    public var contentLength: Int?
    /// `Transfer-Encoding` values, comma-joined when the header repeats.
    public var transferEncoding: String?
    /// `Connection` values, comma-joined when the header repeats.
    public var connection: String?
    /// False when a capture gap cut the head short: only the lines captured before the
    /// gap are present, and a request target may be truncated.
    public var isComplete: Bool

    public init(
        startLine: StartLine, version: String = "1.1", host: String? = nil, userAgent: String? = nil,
        traceparent: String? = nil, contentLength: Int? = nil, transferEncoding: String? = nil,
        connection: String? = nil, isComplete: Bool = true
    ) {
        self.startLine = startLine
        self.version = version
        self.host = host
        self.userAgent = userAgent
        self.traceparent = traceparent
        self.contentLength = contentLength
        self.transferEncoding = transferEncoding
        self.connection = connection
        self.isComplete = isComplete
    }

    /// The request method; nil for a response.
    public var method: String? {
        if case .request(let method, _) = startLine { return method }
        return nil
    }

    /// The request target as sent; nil for a response.
    public var target: String? {
        if case .request(_, let target) = startLine { return target }
        return nil
    }

    /// The response status code; nil for a request.
    public var statusCode: Int? {
        if case .response(let code, _) = startLine { return code }
        return nil
    }

    /// Whether the last transfer coding is `chunked`.
    var isChunked: Bool {
        guard let transferEncoding else { return false }
        let last = transferEncoding.split(separator: ",").last.map { $0.trimmingASCIIWhitespace() } ?? ""
        return last.lowercased() == "chunked"
    }
}
