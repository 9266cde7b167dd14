/// What an HTTP span knows about its exchange. The request's text fields (method, target,
/// path, host, user agent, `traceparent`) are bytes in one buffer, as the decoder read
/// them; each is made a string only when asked for, when the span is output.
public struct HTTPDetails: Sendable {
    /// The text fields' bytes, one after another; `Field`s are ranges in it.
    private var text: [UInt8]
    private var methodField: Field
    private var targetField: Field
    /// Within the target, or after it when set apart; `pathNeedsSlash`: the path is `/`
    /// followed by these bytes (a target such as `http://host?q` has an empty path).
    private var pathField: Field
    private var pathNeedsSlash = false
    private var hostField: Field?
    private var userAgentField: Field?
    private var traceparentField: Field?

    /// Matched route pattern, e.g. `/users/{id}`. Set by the pipeline.
    public var route: String?
    /// Final status code; nil when no response arrived.
    public var statusCode: Int?
    /// `HTTP/1.1` → "1.1".
    public var protocolVersion: String
    /// Body bytes without framing; nil when a capture gap made the size unknown.
    public var requestBodySize: Int?
    public var responseBodySize: Int?
    /// `https` when the exchange went over TLS (its plaintext read at the TLS library).
    public var scheme = "http"

    typealias Field = Range<Int32>

    public init(
        method: String, path: String, target: String, route: String? = nil, statusCode: Int? = nil,
        protocolVersion: String = "1.1", requestBodySize: Int? = 0, responseBodySize: Int? = 0,
        host: String? = nil, userAgent: String? = nil, traceparent: String? = nil
    ) {
        text = []
        methodField = 0..<0
        targetField = 0..<0
        pathField = 0..<0
        self.route = route
        self.statusCode = statusCode
        self.protocolVersion = protocolVersion
        self.requestBodySize = requestBodySize
        self.responseBodySize = responseBodySize
        methodField = Self.append(method, to: &text)
        targetField = Self.append(target, to: &text)
        pathField = Self.append(path, to: &text)
        hostField = host.map { Self.append($0, to: &text) }
        userAgentField = userAgent.map { Self.append($0, to: &text) }
        traceparentField = traceparent.map { Self.append($0, to: &text) }
    }

    /// Details whose text fields a decoder already laid out in `text`.
    init(
        text: [UInt8], method: Field, target: Field, path: Field, pathNeedsSlash: Bool, host: Field?, userAgent: Field?,
        traceparent: Field?, statusCode: Int?, protocolVersion: String, requestBodySize: Int?, responseBodySize: Int?
    ) {
        self.text = text
        methodField = method
        targetField = target
        pathField = path
        self.pathNeedsSlash = pathNeedsSlash
        hostField = host
        userAgentField = userAgent
        traceparentField = traceparent
        self.statusCode = statusCode
        self.protocolVersion = protocolVersion
        self.requestBodySize = requestBodySize
        self.responseBodySize = responseBodySize
    }

    public var method: String {
        get { string(methodField) }
        set { methodField = Self.append(newValue, to: &text) }
    }
    /// Path with the query stripped (unless configured otherwise).
    public var path: String {
        get { pathNeedsSlash ? "/" + string(pathField) : string(pathField) }
        set {
            pathField = Self.append(newValue, to: &text)
            pathNeedsSlash = false
        }
    }
    /// The request target as sent, query included.
    public var target: String {
        get { string(targetField) }
        set { targetField = Self.append(newValue, to: &text) }
    }
    /// `Host` header of the request.
    public var host: String? {
        get { hostField.map(string) }
        set { hostField = newValue.map { Self.append($0, to: &text) } }
    }
    public var userAgent: String? {
        get { userAgentField.map(string) }
        set { userAgentField = newValue.map { Self.append($0, to: &text) } }
    }
    /// The `traceparent` header the request carried, verbatim.
    public var traceparent: String? {
        get { traceparentField.map(string) }
        set { traceparentField = newValue.map { Self.append($0, to: &text) } }
    }

    /// Hands `body` the method's bytes where they lie (UTF-8 as the request carried it,
    /// not checked).
    public func withMethodBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try withBytes(methodField, body)
    }

    /// Hands `body` the path's bytes where they lie; the `/` of a path that needs one is not
    /// among them (see `path`).
    public func withPathBytes<Result>(_ body: (_ needsSlash: Bool, UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try withBytes(pathField) { try body(pathNeedsSlash, $0) }
    }

    /// Hands `body` the `User-Agent` header's bytes where they lie; nil, without calling it,
    /// when the request had none.
    public func withUserAgentBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        guard let userAgentField else { return nil }
        return try withBytes(userAgentField, body)
    }

    /// Drops the query (`?` and what follows) from the path and the target, in place.
    public mutating func removeQuery() {
        pathField = withoutQuery(pathField)
        targetField = withoutQuery(targetField)
    }

    private func withoutQuery(_ field: Field) -> Field {
        withBytes(field) { bytes in
            guard let query = bytes.firstIndex(of: UInt8(ascii: "?")) else { return field }
            return field.lowerBound..<(field.lowerBound + Int32(query))
        }
    }

    private func withBytes<Result>(_ field: Field, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try text.withUnsafeBufferPointer { try body($0[field: field]) }
    }

    private func string(_ field: Field) -> String {
        text.withUnsafeBufferPointer { $0.string(field) }
    }

    private static func append(_ string: String, to text: inout [UInt8]) -> Field {
        let start = Int32(text.count)
        text.append(contentsOf: string.utf8)
        return start..<Int32(text.count)
    }

    private func bytesEqual(_ a: Field?, _ other: HTTPDetails, _ b: Field?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return text[Int(a.lowerBound)..<Int(a.upperBound)].elementsEqual(other.text[Int(b.lowerBound)..<Int(b.upperBound)])
    }
}

extension HTTPDetails: Equatable {
    /// Equal when every field reads the same, however the bytes are laid out.
    public static func == (a: HTTPDetails, b: HTTPDetails) -> Bool {
        a.route == b.route && a.statusCode == b.statusCode && a.protocolVersion == b.protocolVersion
            && a.requestBodySize == b.requestBodySize && a.responseBodySize == b.responseBodySize && a.scheme == b.scheme
            && a.bytesEqual(a.methodField, b, b.methodField) && a.bytesEqual(a.targetField, b, b.targetField)
            && a.path == b.path && a.bytesEqual(a.hostField, b, b.hostField)
            && a.bytesEqual(a.userAgentField, b, b.userAgentField) && a.bytesEqual(a.traceparentField, b, b.traceparentField)
    }
}
