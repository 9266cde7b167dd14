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

    /// The start line: the method and target, or the status code and reason.
    public var startLine: StartLine {
        get { storage.startLine }
        set { unique().startLine = newValue }
    }
    /// `HTTP/1.1` → "1.1".
    public var version: String {
        get { storage.version }
        set { unique().version = newValue }
    }
    public var host: String? {
        get { storage.host }
        set { unique().host = newValue }
    }
    public var userAgent: String? {
        get { storage.userAgent }
        set { unique().userAgent = newValue }
    }
    public var traceparent: String? {
        get { storage.traceparent }
        set { unique().traceparent = newValue }
    }
    /// The value of `Content-Length`, when present and valid.
    public var contentLength: Int? {
        get { storage.contentLength }
        set { unique().contentLength = newValue }
    }
    /// `Transfer-Encoding` values, comma-joined when the header repeats.
    public var transferEncoding: String? {
        get { storage.transferEncoding }
        set { unique().transferEncoding = newValue }
    }
    /// `Connection` values, comma-joined when the header repeats.
    public var connection: String? {
        get { storage.connection }
        set { unique().connection = newValue }
    }
    /// `Upgrade` values, comma-joined when the header repeats: the protocols a request
    /// offers to switch to, or the one a `101` response switches to.
    public var upgrade: String? {
        get { storage.upgrade }
        set { unique().upgrade = newValue }
    }
    /// False when a capture gap cut the head short: only the lines captured before the
    /// gap are present, and a request target may be truncated.
    public var isComplete: Bool {
        get { storage.isComplete }
        set { unique().isComplete = newValue }
    }

    /// The fields, boxed: a head travels from the parser through decoder events, the
    /// exchange and the operation, and each copy costs one reference instead of a copy of
    /// every string.
    private var storage: Storage

    public init(
        startLine: StartLine, version: String = "1.1", host: String? = nil, userAgent: String? = nil,
        traceparent: String? = nil, contentLength: Int? = nil, transferEncoding: String? = nil,
        connection: String? = nil, upgrade: String? = nil, isComplete: Bool = true
    ) {
        storage = Storage(
            startLine: startLine, version: version, host: host, userAgent: userAgent, traceparent: traceparent,
            contentLength: contentLength, transferEncoding: transferEncoding, connection: connection, upgrade: upgrade, isComplete: isComplete
        )
    }

    /// The storage, copied first when another head shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public static func == (a: HTTP1MessageHead, b: HTTP1MessageHead) -> Bool {
        a.storage === b.storage || a.storage.fields == b.storage.fields
    }

    /// Changed only through `unique()`, by the one head holding it: never while another
    /// head or thread can see it.
    private final class Storage: @unchecked Sendable {
        var startLine: StartLine
        var version: String
        var host: String?
        var userAgent: String?
        var traceparent: String?
        var contentLength: Int?
        var transferEncoding: String?
        var connection: String?
        var upgrade: String?
        var isComplete: Bool

        init(
            startLine: StartLine, version: String, host: String?, userAgent: String?, traceparent: String?,
            contentLength: Int?, transferEncoding: String?, connection: String?, upgrade: String?, isComplete: Bool
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

        func copy() -> Storage {
            Storage(
                startLine: startLine, version: version, host: host, userAgent: userAgent, traceparent: traceparent,
                contentLength: contentLength, transferEncoding: transferEncoding, connection: connection, upgrade: upgrade, isComplete: isComplete
            )
        }

        /// Every field, for equality.
        var fields: Fields {
            Fields(
                startLine: startLine, version: version, host: host, userAgent: userAgent, traceparent: traceparent,
                contentLength: contentLength, transferEncoding: transferEncoding, connection: connection, upgrade: upgrade, isComplete: isComplete
            )
        }
    }

    private struct Fields: Equatable {
        var startLine: StartLine
        var version: String
        var host: String?
        var userAgent: String?
        var traceparent: String?
        var contentLength: Int?
        var transferEncoding: String?
        var connection: String?
        var upgrade: String?
        var isComplete: Bool
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
