/// What an HTTP span knows about its exchange. The request's text fields (method, target,
/// path, host, user agent, `traceparent`) are bytes laid out one after another, as the
/// decoder read them; each is made a string only when asked for, when the span is output.
///
/// A value held in one allocation (`HTTPStorage`: the fields, then the text's bytes in the
/// same block), shared by copies until one of them changes, which copies it first unless it
/// holds the only reference. A span and the operation it was built from take the box as it is.
public struct HTTPDetails: Sendable {
    /// Unchecked for sending: see `HTTPStorage`.
    nonisolated(unsafe) var storage: HTTPStorage

    typealias Field = Range<Int32>

    init(storage: HTTPStorage) {
        self.storage = storage
    }

    public init(
        method: String, path: String, target: String, route: String? = nil, statusCode: Int? = nil,
        protocolVersion: String = "1.1", requestBodySize: Int? = 0, responseBodySize: Int? = 0,
        host: String? = nil, userAgent: String? = nil, traceparent: String? = nil
    ) {
        var text: [UInt8] = []
        func append(_ string: String) -> Field {
            let start = Int32(text.count)
            text.append(contentsOf: string.utf8)
            return start..<Int32(text.count)
        }
        let methodField = append(method)
        let targetField = append(target)
        let pathField = append(path)
        let hostField = host.map(append)
        let userAgentField = userAgent.map(append)
        let traceparentField = traceparent.map(append)
        self.init(
            text: text, method: methodField, target: targetField, path: pathField, pathNeedsSlash: false, host: hostField,
            userAgent: userAgentField, traceparent: traceparentField, statusCode: statusCode, protocolVersion: protocolVersion,
            requestBodySize: requestBodySize, responseBodySize: responseBodySize
        )
        storage.fields.route = route
    }

    /// Details whose text fields are already laid out in `text`.
    init(
        text: [UInt8], method: Field, target: Field, path: Field, pathNeedsSlash: Bool, host: Field?, userAgent: Field?,
        traceparent: Field?, statusCode: Int?, protocolVersion: String, requestBodySize: Int?, responseBodySize: Int?
    ) {
        let fields = HTTPStorage.Fields(
            textCount: Int32(text.count), method: method, target: target, path: path, pathNeedsSlash: pathNeedsSlash,
            host: host, userAgent: userAgent, traceparent: traceparent, route: nil, statusCode: statusCode,
            protocolVersion: protocolVersion, requestBodySize: requestBodySize, responseBodySize: responseBodySize
        )
        storage = text.withUnsafeBufferPointer { text in
            let storage = HTTPStorage.make(fields, textCapacity: text.count)
            if let bytes = text.baseAddress { storage.withUnsafeMutablePointerToElements { $0.update(from: bytes, count: text.count) } }
            return storage
        }
    }

    /// Matched route pattern, e.g. `/users/{id}`. Set by the pipeline.
    public var route: String? {
        get { storage.fields.route }
        set { unique().fields.route = newValue }
    }
    /// Final status code; nil when no response arrived.
    public var statusCode: Int? {
        get { storage.fields.statusCode }
        set { unique().fields.statusCode = newValue }
    }
    /// `HTTP/1.1` → "1.1".
    public var protocolVersion: String {
        get { storage.fields.protocolVersion }
        set { unique().fields.protocolVersion = newValue }
    }
    /// Body bytes without framing; nil when a capture gap made the size unknown.
    public var requestBodySize: Int? {
        get { storage.fields.requestBodySize }
        set { unique().fields.requestBodySize = newValue }
    }
    public var responseBodySize: Int? {
        get { storage.fields.responseBodySize }
        set { unique().fields.responseBodySize = newValue }
    }
    /// `https` when the exchange went over TLS (its plaintext read at the TLS library).
    public var scheme: String {
        get { storage.fields.scheme }
        set { unique().fields.scheme = newValue }
    }

    public var method: String {
        get { string(storage.fields.method) }
        set {
            let field = append(newValue)
            storage.fields.method = field
        }
    }
    /// Path with the query stripped (unless configured otherwise).
    public var path: String {
        get { storage.fields.pathNeedsSlash ? "/" + string(storage.fields.path) : string(storage.fields.path) }
        set {
            let field = append(newValue)
            storage.fields.path = field
            storage.fields.pathNeedsSlash = false
        }
    }
    /// The request target as sent, query included.
    public var target: String {
        get { string(storage.fields.target) }
        set {
            let field = append(newValue)
            storage.fields.target = field
        }
    }
    /// `Host` header of the request.
    public var host: String? {
        get { storage.fields.host.map(string) }
        set {
            let field = newValue.map { append($0) }
            unique().fields.host = field
        }
    }
    public var userAgent: String? {
        get { storage.fields.userAgent.map(string) }
        set {
            let field = newValue.map { append($0) }
            unique().fields.userAgent = field
        }
    }
    /// The `traceparent` header the request carried, verbatim.
    public var traceparent: String? {
        get { storage.fields.traceparent.map(string) }
        set {
            let field = newValue.map { append($0) }
            unique().fields.traceparent = field
        }
    }

    /// Hands `body` the method's bytes where they lie (UTF-8 as the request carried it,
    /// not checked).
    public func withMethodBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try storage.withBytes(storage.fields.method, body)
    }

    /// Hands `body` the path's bytes where they lie; the `/` of a path that needs one is not
    /// among them (see `path`).
    public func withPathBytes<Result>(_ body: (_ needsSlash: Bool, UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        let needsSlash = storage.fields.pathNeedsSlash
        return try storage.withBytes(storage.fields.path) { try body(needsSlash, $0) }
    }

    /// Hands `body` the `User-Agent` header's bytes where they lie; nil, without calling it,
    /// when the request had none.
    public func withUserAgentBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        guard let field = storage.fields.userAgent else { return nil }
        return try storage.withBytes(field, body)
    }

    /// Drops the query (`?` and what follows) from the path and the target, in place.
    public mutating func removeQuery() {
        let path = withoutQuery(storage.fields.path)
        let target = withoutQuery(storage.fields.target)
        let fields = unique()
        fields.fields.path = path
        fields.fields.target = target
    }

    private func withoutQuery(_ field: Field) -> Field {
        storage.withBytes(field) { bytes in
            guard let query = bytes.firstIndex(of: UInt8(ascii: "?")) else { return field }
            return field.lowerBound..<(field.lowerBound + Int32(query))
        }
    }

    private func string(_ field: Field) -> String {
        storage.withBytes(field) { String(decoding: $0, as: UTF8.self) }
    }

    /// The box, made this value's own first when another holds it too.
    private mutating func unique() -> HTTPStorage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(textCapacity: Int(storage.fields.textCount)) }
        return storage
    }

    /// `string`'s bytes after the text, in a box of this value's own with room for them.
    private mutating func append(_ string: String) -> Field {
        var string = string
        return string.withUTF8 { bytes in
            let start = Int(storage.fields.textCount)
            storage = storage.copy(textCapacity: start + bytes.count)
            if let source = bytes.baseAddress { storage.withUnsafeMutablePointerToElements { ($0 + start).update(from: source, count: bytes.count) } }
            storage.fields.textCount = Int32(start + bytes.count)
            return Int32(start)..<Int32(start + bytes.count)
        }
    }

    private func bytesEqual(_ a: Field?, _ other: HTTPDetails, _ b: Field?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return storage.withBytes(a) { a in other.storage.withBytes(b) { b in a.elementsEqual(b) } }
    }
}

extension HTTPDetails: Equatable {
    /// Equal when every field reads the same, however the bytes are laid out.
    public static func == (a: HTTPDetails, b: HTTPDetails) -> Bool {
        let x = a.storage.fields, y = b.storage.fields
        return x.route == y.route && x.statusCode == y.statusCode && x.protocolVersion == y.protocolVersion
            && x.requestBodySize == y.requestBodySize && x.responseBodySize == y.responseBodySize && x.scheme == y.scheme
            && a.bytesEqual(x.method, b, y.method) && a.bytesEqual(x.target, b, y.target)
            && a.path == b.path && a.bytesEqual(x.host, b, y.host)
            && a.bytesEqual(x.userAgent, b, y.userAgent) && a.bytesEqual(x.traceparent, b, y.traceparent)
    }
}

/// The one allocation an `HTTPDetails` value lives in: its fields, then the bytes of its
/// text fields. Spans cross threads only as values moved whole, never changed by two at
/// once; a box shared by copies is copied before one of them changes it (`HTTPDetails`).
/// A decoder that made the box sets the response's figures in it directly (`fields`) while
/// it alone holds it. Sendable as what holds it is (`nonisolated(unsafe)` where it is stored:
/// a `ManagedBuffer` cannot be declared so).
final class HTTPStorage: ManagedBuffer<HTTPStorage.Fields, UInt8> {
    /// What the details hold besides their text's bytes.
    struct Fields {
        /// How many bytes of the tail are text.
        var textCount: Int32
        /// Ranges of the text.
        var method: HTTPDetails.Field
        var target: HTTPDetails.Field
        /// Within the target, or after it when set apart; `pathNeedsSlash`: the path is `/`
        /// followed by these bytes (a target such as `http://host?q` has an empty path).
        var path: HTTPDetails.Field
        var pathNeedsSlash: Bool
        var host: HTTPDetails.Field?
        var userAgent: HTTPDetails.Field?
        var traceparent: HTTPDetails.Field?
        var route: String?
        var statusCode: Int?
        var protocolVersion: String
        var requestBodySize: Int?
        var responseBodySize: Int?
        var scheme = "http"
    }

    /// The fields, read and changed where they lie: through `header` each access would be
    /// checked for exclusivity at run time (the box is never reached by two threads at once).
    var fields: Fields {
        unsafeAddress { UnsafePointer(withUnsafeMutablePointerToHeader { $0 }) }
        unsafeMutableAddress { withUnsafeMutablePointerToHeader { $0 } }
    }

    /// A box for `fields` with room for `textCapacity` bytes of text after them, not yet written.
    static func make(_ fields: Fields, textCapacity: Int) -> HTTPStorage {
        unsafeDowncast(create(minimumCapacity: textCapacity) { _ in fields }, to: HTTPStorage.self)
    }

    /// A copy with room for `textCapacity` bytes of text (at least the text it holds).
    func copy(textCapacity: Int) -> HTTPStorage {
        let count = Int(fields.textCount)
        let copy = Self.make(fields, textCapacity: max(count, textCapacity))
        withUnsafeMutablePointerToElements { text in
            copy.withUnsafeMutablePointerToElements { $0.update(from: text, count: count) }
        }
        return copy
    }

    /// Hands `body` the bytes of `field` where they lie.
    @inline(__always)
    func withBytes<Result>(_ field: HTTPDetails.Field, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try withUnsafeMutablePointerToElements { text in
            try body(UnsafeBufferPointer(start: text + Int(field.lowerBound), count: Int(field.upperBound &- field.lowerBound)))
        }
    }

    /// The details the box holds, sharing it.
    var details: HTTPDetails { HTTPDetails(storage: self) }

    static func == (a: HTTPStorage, b: HTTPStorage) -> Bool {
        a === b || a.details == b.details
    }
}

extension HTTPStorage: Equatable {}
