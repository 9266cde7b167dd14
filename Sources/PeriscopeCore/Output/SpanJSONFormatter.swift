/// A span as one line of JSON with OpenTelemetry's OTLP/JSON field names: hex ids,
/// 64-bit times as strings, enum names for kind and status, and the semantic-convention
/// attributes as one flat object with typed values; in a cluster, the pod's resource
/// attributes (`k8s.pod.name`, …) as a `resource` object.
///
/// Written straight into an `OutputBuffer`: a busy agent prints hundreds of thousands of
/// spans a second. Strings are copied as they are unless a byte needs escaping; numbers,
/// ids and addresses are formatted in place.
public struct SpanJSONFormatter: Sendable {
    /// The connection attributes of recent connections, written once per connection and
    /// copied for its next spans; by `write(_:into:resource:)` only (an `OutputBuffer`'s
    /// writer, the capture thread's).
    private var connectionBlocks = ConnectionAttributeBlocks()
    /// The `resource` objects of recent processes, encoded once per pod rather than sorted
    /// and written for every span; by `write(_:into:resource:)` only, like `connectionBlocks`.
    private var resourceObjects = ResourceObjectCache()

    public init() {}

    /// The span formatted with the default settings.
    public static func format(_ span: Span, resource: [String: String]? = nil) -> String {
        Self().format(span, resource: resource)
    }

    /// One JSON object, without a trailing newline.
    public func format(_ span: Span, resource: [String: String]? = nil) -> String {
        var buffer = OutputBuffer(capacity: 1024)
        Self.write(span, to: &buffer.writer, resource: resource)
        return buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Appends one JSON object, without a trailing newline, to `out`.
    public func write(_ span: Span, into out: inout [UInt8], resource: [String: String]? = nil) {
        var buffer = OutputBuffer(capacity: 1024)
        Self.write(span, to: &buffer.writer, resource: resource)
        buffer.withUnsafeBytes { out.append(contentsOf: $0) }
    }

    /// Appends one JSON object, without a trailing newline, to `out`; the same bytes as the
    /// other `write`s, the attributes a span shares with the earlier spans of its connection
    /// copied from what was written for them.
    public mutating func write(_ span: Span, into out: inout OutputBuffer, resource: [String: String]? = nil) {
        withUnsafeMutablePointer(to: &connectionBlocks) { blocks in
            withUnsafeMutablePointer(to: &resourceObjects) { resources in
                Self.write(span, to: &out.writer, resource: resource, blocks: blocks, resources: resources)
            }
        }
    }

    /// `blocks`: where connection attributes are kept; nil to write them all. `resources`:
    /// where `resource` objects are kept; nil to write each one. `commonHTTP`:
    /// whether HTTP attributes of the common shape are written in one pass
    /// (`writeCommonHTTPAttributes`); false, for tests, to write them all one by one.
    static func write(
        _ span: Span, to writer: inout ByteWriter, resource: [String: String]?, blocks: UnsafeMutablePointer<ConnectionAttributeBlocks>? = nil,
        resources: UnsafeMutablePointer<ResourceObjectCache>? = nil, commonHTTP: Bool = true
    ) {
        writer.bytes(#"{"traceId":""#)
        writer.hex(span.traceID.high)
        writer.hex(span.traceID.low)
        writer.bytes(#"","spanId":""#)
        writer.hex(span.spanID.value)
        if let parent = span.parentSpanID {
            writer.bytes(#"","parentSpanId":""#)
            writer.hex(parent.value)
        }
        writer.bytes(#"","name":"#)
        writer.jsonString(span.name)
        switch span.kind {
        case .server: writer.bytes(#","kind":"SPAN_KIND_SERVER","startTimeUnixNano":""#)
        case .client: writer.bytes(#","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":""#)
        case .internal: writer.bytes(#","kind":"SPAN_KIND_INTERNAL","startTimeUnixNano":""#)
        }
        let startOffset = writer.count
        writer.decimal(span.startTimeUnixNano)
        let startLength = writer.count - startOffset
        writer.bytes(#"","endTimeUnixNano":""#)
        writer.decimal(span.endTimeUnixNano, sharingDigitsWith: span.startTimeUnixNano, writtenAt: startOffset, length: startLength)
        switch span.status {
        case .unset: writer.bytes(#"","status":{"code":"STATUS_CODE_UNSET""#)
        case .ok: writer.bytes(#"","status":{"code":"STATUS_CODE_OK""#)
        case .error: writer.bytes(#"","status":{"code":"STATUS_CODE_ERROR""#)
        }
        if let message = span.statusMessage {
            writer.bytes(#","message":"#)
            writer.jsonString(message)
        }
        writer.bytes(#"},"attributes":{"#)
        // The visitor writes through its own copy of the writer, taken back afterwards.
        var attributes = AttributeWriter(writer: writer)
        let written = commonHTTP && span.protocolAttributes.isEmpty
            && span.readHTTPInPlace { http in writeCommonHTTPAttributes(&http, to: &attributes.writer) } == true
        if written {
            attributes.first = false
        } else {
            span.visitRequestAttributes(&attributes)
        }
        attributes.connectionAttributes(of: span, blocks: blocks)
        span.visitTCPAttributes(&attributes)
        writer = attributes.writer
        writer.byte(UInt8(ascii: "}"))
        if let resource, !resource.isEmpty {
            if let resources {
                resources.pointee.write(resource, pid: span.pid, to: &writer)
            } else {
                writeResource(resource, to: &writer)
            }
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// `,"resource":{…}` with the members in key order, so that the same attributes are
    /// always the same bytes.
    static func writeResource(_ resource: [String: String], to writer: inout ByteWriter) {
        writer.bytes(#","resource":{"#)
        for (index, entry) in resource.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.jsonString(entry.key)
            writer.byte(UInt8(ascii: ":"))
            writer.jsonString(entry.value)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// The HTTP attributes (`HTTPDetails.visitAttributes`) of a request of the common shape
    /// as the first members of the attributes object, the same bytes as one by one: the
    /// constant parts between values (a string's closing quote, the next keys, a constant
    /// value, the next opening quote) each written as one static run of bytes. False,
    /// writing nothing, for any other shape (a method OpenTelemetry does not name in its
    /// common form, a scheme other than `http` or `https`, a path that needs its `/` or is not
    /// ASCII, an HTTP version other than 1.1 or 1.0, a user agent that is not ASCII).
    /// `inout` only so that the details are read where they lie: nothing is changed.
    static func writeCommonHTTPAttributes(_ http: inout HTTPDetails, to writer: inout ByteWriter) -> Bool {
        let version1 = switch http.protocolVersion {
        case "1.1": true
        case "1.0": false
        default: nil as Bool?
        }
        guard let version1, http.scheme == "http" || http.scheme == "https",
              http.withMethodBytes({ Span.isCommonMethod($0) }),
              http.withPathBytes({ needsSlash, path in !needsSlash && ByteWriter.isASCII(path) }),
              http.withUserAgentBytes({ ByteWriter.isASCII($0) }) ?? true
        else { return false }
        writer.bytes(#""http.request.method":""#)
        http.withMethodBytes { writer.bytes($0) }
        if http.scheme == "http" {
            writer.bytes(#"","url.scheme":"http","url.path":""#)
        } else {
            writer.bytes(#"","url.scheme":"https","url.path":""#)
        }
        http.withPathBytes { _, path in writer.jsonStringContents(path) }
        // Whether a string value is left open (its closing quote not yet written).
        var open = true
        if let route = http.route {
            writer.bytes(#"","http.route":""#)
            writer.jsonStringContents(route)
        }
        if let code = http.statusCode {
            writer.bytes(#"","http.response.status_code":"#)
            writer.shortDecimal(code)
            open = false
        }
        if open { writer.byte(UInt8(ascii: "\"")) }
        if version1 {
            writer.bytes(#","network.protocol.name":"http","network.protocol.version":"1.1""#)
        } else {
            writer.bytes(#","network.protocol.name":"http","network.protocol.version":"1.0""#)
        }
        if let size = http.requestBodySize {
            writer.bytes(#","http.request.body.size":"#)
            writer.shortDecimal(size)
        }
        if let size = http.responseBodySize {
            writer.bytes(#","http.response.body.size":"#)
            writer.shortDecimal(size)
        }
        _ = http.withUserAgentBytes { userAgent in
            writer.bytes(#","user_agent.original":""#)
            writer.jsonStringContents(userAgent)
            writer.byte(UInt8(ascii: "\""))
        }
        return true
    }

    /// Writes attributes as `"key":value` members, comma-separated.
    private struct AttributeWriter: SpanAttributeVisitor {
        var writer: ByteWriter
        var first = true
        var recent = RecentIPv4()

        /// `span.visitConnectionAttributes`, copied from `blocks` when they hold the span's
        /// connection, else written and kept there.
        mutating func connectionAttributes(of span: Span, blocks: UnsafeMutablePointer<ConnectionAttributeBlocks>?) {
            guard let blocks else {
                span.visitConnectionAttributes(&self)
                return
            }
            if !first { writer.byte(UInt8(ascii: ",")) }
            let set = ConnectionAttributeBlocks.set(of: span)
            let copied = blocks.pointee.withBlock(for: span, set: set) { block in writer.bytes(block) }
            if copied {
                first = false
                return
            }
            first = true
            let start = writer.count
            span.visitConnectionAttributes(&self)
            blocks.pointee.keep(UnsafeBufferPointer(rebasing: writer.written[start...]), for: span, set: set)
        }

        @inline(__always)
        private mutating func key(_ key: StaticString) {
            writer.memberKey(key, first: first)
            first = false
        }

        @inline(__always)
        mutating func visit(_ key: StaticString, _ value: String) {
            self.key(key)
            writer.jsonString(value)
        }

        @inline(__always)
        mutating func visit(_ key: StaticString, constant value: StaticString) {
            writer.member(key, constant: value, first: first)
            first = false
        }

        @inline(__always)
        mutating func visit(_ key: StaticString, _ value: Int) {
            self.key(key)
            writer.decimal(value)
        }

        /// ASCII, the usual case, is written as it is (escaped where needed); anything
        /// else goes through a string, which replaces what is not UTF-8.
        @inline(__always)
        mutating func visit(_ key: StaticString, utf8 value: UnsafeBufferPointer<UInt8>) {
            guard ByteWriter.isASCII(value) else {
                visit(key, String(decoding: value, as: UTF8.self))
                return
            }
            self.key(key)
            writer.byte(UInt8(ascii: "\""))
            writer.jsonStringContents(value)
            writer.byte(UInt8(ascii: "\""))
        }

        @inline(__always)
        mutating func visit(_ key: StaticString, host address: SocketAddress) {
            self.key(key)
            writer.byte(UInt8(ascii: "\""))
            if address.isIPv4 {
                writer.ipv4(address, recent: &recent)
            } else {
                writer.jsonStringContents(address.host)
            }
            writer.byte(UInt8(ascii: "\""))
        }

        mutating func visit(_ attribute: Attribute) {
            if !first { writer.byte(UInt8(ascii: ",")) }
            first = false
            writer.jsonString(attribute.key)
            writer.byte(UInt8(ascii: ":"))
            SpanJSONFormatter.write(attribute.value, to: &writer)
        }
    }

    static func json(_ value: AttributeValue) -> String {
        var buffer = OutputBuffer(capacity: 64)
        write(value, to: &buffer.writer)
        return buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    static func write(_ value: AttributeValue, to writer: inout ByteWriter) {
        switch value {
        case .string(let text): writer.jsonString(text)
        case .int(let number): writer.decimal(number)
        case .bool(let flag): writer.bytes(flag ? "true" : "false")
        case .double(let number): writer.jsonStringContents(number.isFinite ? String(number) : "null")
        }
    }
}
