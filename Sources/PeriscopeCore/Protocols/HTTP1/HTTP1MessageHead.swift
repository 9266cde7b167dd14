/// The start line and the headers Periscope reads from an HTTP/1.x message head, as
/// strings: what `HTTP1Decoder`'s list of events reports. The protocol decoder reads heads
/// in place (`HTTP1HeadFields`) and makes none of these.
public struct HTTP1MessageHead: Sendable, Equatable {
    public enum StartLine: Sendable, Equatable {
        /// `GET /path?q HTTP/1.1`: the method and the request target as sent.
        case request(method: String, target: String)
        /// `HTTP/1.1 200 OK`.
        case response(statusCode: Int, reason: String)
    }

    /// The start line: the method and target, or the status code and reason.
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
    /// `Upgrade` values, comma-joined when the header repeats: the protocols a request
    /// offers to switch to, or the one a `101` response switches to.
    public var upgrade: String?
    /// False when a capture gap cut the head short: only the lines captured before the
    /// gap are present, and a request target may be truncated.
    public var isComplete: Bool

    public init(
        startLine: StartLine, version: String = "1.1", host: String? = nil, userAgent: String? = nil,
        traceparent: String? = nil, contentLength: Int? = nil, transferEncoding: String? = nil,
        connection: String? = nil, upgrade: String? = nil, isComplete: Bool = true
    ) {
        self.startLine = startLine
        self.version = version
        self.host = host
        self.userAgent = userAgent
        self.traceparent = traceparent
        self.contentLength = contentLength
        self.transferEncoding = transferEncoding
        self.connection = connection
        self.upgrade = upgrade
        self.isComplete = isComplete
    }

    /// The head whose fields lie in `bytes`, read as strings. Repeated `Transfer-Encoding`,
    /// `Connection` and `Upgrade` headers are joined, read again from the header lines.
    init(_ fields: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
        if let code = fields.statusCode {
            startLine = .response(statusCode: code, reason: bytes.string(fields.reason))
        } else {
            startLine = .request(method: bytes.string(fields.methodBytes), target: bytes.string(fields.target))
        }
        version = fields.version
        host = fields.host.map(bytes.string)
        userAgent = fields.userAgent.map(bytes.string)
        traceparent = fields.traceparent.map(bytes.string)
        contentLength = fields.contentLength
        isComplete = fields.isComplete
        let lines = bytes[Int(fields.headerStart)..<Int(fields.end)]
        for line in lines.split(separator: HTTP1Syntax.lf) {
            guard case .success(let (name, value)) = HTTP1HeadParser.header(HTTP1HeadParser.withoutCR(line)) else { continue }
            let text = String(decoding: value, as: UTF8.self)
            switch HTTP1HeaderName(name) {
            case .transferEncoding: transferEncoding = Self.joined(transferEncoding, text)
            case .connection: connection = Self.joined(connection, text)
            case .upgrade: upgrade = Self.joined(upgrade, text)
            default: break
            }
        }
    }

    private static func joined(_ existing: String?, _ value: String) -> String {
        existing.map { "\($0), \(value)" } ?? value
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
}
