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
        get { storage.fields.startLine }
        set { unique().fields.startLine = newValue }
    }
    /// `HTTP/1.1` → "1.1".
    public var version: String {
        get { storage.fields.version }
        set { unique().fields.version = newValue }
    }
    public var host: String? {
        get { storage.fields.host }
        set { unique().fields.host = newValue }
    }
    public var userAgent: String? {
        get { storage.fields.userAgent }
        set { unique().fields.userAgent = newValue }
    }
    public var traceparent: String? {
        get { storage.fields.traceparent }
        set { unique().fields.traceparent = newValue }
    }
    /// The value of `Content-Length`, when present and valid.
    public var contentLength: Int? {
        get { storage.fields.contentLength }
        set { unique().fields.contentLength = newValue }
    }
    /// `Transfer-Encoding` values, comma-joined when the header repeats.
    public var transferEncoding: String? {
        get { storage.fields.transferEncoding }
        set { unique().fields.transferEncoding = newValue }
    }
    /// `Connection` values, comma-joined when the header repeats.
    public var connection: String? {
        get { storage.fields.connection }
        set { unique().fields.connection = newValue }
    }
    /// `Upgrade` values, comma-joined when the header repeats: the protocols a request
    /// offers to switch to, or the one a `101` response switches to.
    public var upgrade: String? {
        get { storage.fields.upgrade }
        set { unique().fields.upgrade = newValue }
    }
    /// False when a capture gap cut the head short: only the lines captured before the
    /// gap are present, and a request target may be truncated.
    public var isComplete: Bool {
        get { storage.fields.isComplete }
        set { unique().fields.isComplete = newValue }
    }

    /// The fields, boxed: a head travels from the parser through the pending exchange to the
    /// operation, and each copy costs one reference instead of a copy of every string.
    private var storage: Storage

    public init(
        startLine: StartLine, version: String = "1.1", host: String? = nil, userAgent: String? = nil,
        traceparent: String? = nil, contentLength: Int? = nil, transferEncoding: String? = nil,
        connection: String? = nil, upgrade: String? = nil, isComplete: Bool = true
    ) {
        storage = Storage(Fields(
            startLine: startLine, version: version, host: host, userAgent: userAgent, traceparent: traceparent,
            contentLength: contentLength, transferEncoding: transferEncoding, connection: connection, upgrade: upgrade,
            isComplete: isComplete
        ))
    }

    /// A head of the fields a parser filled, moved into its box.
    init(fields: consuming Fields) {
        storage = Storage(fields)
    }

    /// The storage, copied first when another head shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    public static func == (a: HTTP1MessageHead, b: HTTP1MessageHead) -> Bool {
        a.storage === b.storage || a.storage.fields == b.storage.fields
    }

    /// Changed only through `unique()`, by the one head holding it: never while another
    /// head or thread can see it.
    private final class Storage: @unchecked Sendable {
        var fields: Fields

        init(_ fields: consuming Fields) {
            self.fields = fields
        }
    }

    /// Every field of a head; what `HTTP1HeadParser` fills as it reads the lines.
    struct Fields: Equatable {
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
