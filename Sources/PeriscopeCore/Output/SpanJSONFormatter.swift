/// A span as one line of JSON with OpenTelemetry's OTLP/JSON field names: hex ids,
/// 64-bit times as strings, enum names for kind and status, and the semantic-convention
/// attributes as one flat object with typed values; in a cluster, the pod's resource
/// attributes (`k8s.pod.name`, …) as a `resource` object.
///
/// Written straight into a byte buffer: a busy agent prints hundreds of thousands of spans
/// a second.
public struct SpanJSONFormatter: Sendable {
    public init() {}

    /// The span formatted with the default settings.
    public static func format(_ span: Span, resource: [String: String]? = nil) -> String {
        Self().format(span, resource: resource)
    }

    /// One JSON object, without a trailing newline.
    public func format(_ span: Span, resource: [String: String]? = nil) -> String {
        var bytes: [UInt8] = []
        write(span, into: &bytes, resource: resource)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends one JSON object, without a trailing newline, to `out`.
    public func write(_ span: Span, into out: inout [UInt8], resource: [String: String]? = nil) {
        // Room for everything up to the attributes' end, bounded first (escaping at most
        // sextuples a byte), then written through a pointer.
        var bound = RoomBound()
        span.visitAttributes(&bound)
        let room = 400 + bound.total + RoomBound.string(span.name) + (span.statusMessage.map(RoomBound.string) ?? 0)
        out.writeReserved(room: room) { writer in
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
            case .server: writer.bytes(#","kind":"SPAN_KIND_SERVER"#)
            case .client: writer.bytes(#","kind":"SPAN_KIND_CLIENT"#)
            case .internal: writer.bytes(#","kind":"SPAN_KIND_INTERNAL"#)
            }
            writer.bytes(#"","startTimeUnixNano":""#)
            writer.decimal(span.startTimeUnixNano)
            writer.bytes(#"","endTimeUnixNano":""#)
            writer.decimal(span.endTimeUnixNano)
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
            var attributes = AttributeWriter(writer: writer)
            span.visitAttributes(&attributes)
            writer = attributes.writer
            writer.byte(UInt8(ascii: "}"))
        }
        if let resource, !resource.isEmpty {
            out.append(static: #","resource":{"#)
            for (index, entry) in resource.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.write(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                JSONString.write(entry.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The most bytes `AttributeWriter` can write for the attributes visited.
    private struct RoomBound: SpanAttributeVisitor {
        var total = 0

        /// A string literal: quotes, and each byte escaped at most as `\u00XX`.
        static func string(_ value: String) -> Int { 2 + 6 * value.utf8.count }

        /// `,"key":`.
        private static func key(_ key: StaticString) -> Int { 4 + key.utf8CodeUnitCount }

        mutating func visit(_ key: StaticString, _ value: String) { total += Self.key(key) + Self.string(value) }
        mutating func visit(_ key: StaticString, _ value: Int) { total += Self.key(key) + 21 }
        mutating func visit(_ key: StaticString, host address: SocketAddress) {
            total += Self.key(key) + (address.isIPv4 ? 17 : Self.string(address.host))
        }
        mutating func visit(_ attribute: Attribute) {
            let value = switch attribute.value {
            case .string(let text): Self.string(text)
            case .int, .bool: 21
            case .double: 32
            }
            total += 2 + Self.string(attribute.key) + value
        }
    }

    /// Writes attributes as `"key":value` members, comma-separated.
    private struct AttributeWriter: SpanAttributeVisitor {
        var writer: ReservedBytes
        var first = true

        @inline(__always)
        private mutating func key(_ key: StaticString) {
            writer.memberKey(key, first: first)
            first = false
        }

        mutating func visit(_ key: StaticString, _ value: String) {
            self.key(key)
            writer.jsonString(value)
        }

        mutating func visit(_ key: StaticString, _ value: Int) {
            self.key(key)
            writer.decimal(value)
        }

        mutating func visit(_ key: StaticString, host address: SocketAddress) {
            self.key(key)
            writer.byte(UInt8(ascii: "\""))
            if address.isIPv4 {
                writer.ipv4(address)
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
            switch attribute.value {
            case .string(let text): writer.jsonString(text)
            case .int(let number): writer.decimal(number)
            case .bool(let flag): writer.bytes(flag ? "true" : "false")
            case .double(let number):
                let text = number.isFinite ? String(number) : "null"
                writer.jsonStringContents(text)
            }
        }
    }

    static func json(_ value: AttributeValue) -> String {
        var bytes: [UInt8] = []
        write(value, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ value: AttributeValue, into out: inout [UInt8]) {
        switch value {
        case .string(let string): JSONString.write(string, into: &out)
        case .int(let int):
            if int < 0 { out.append(UInt8(ascii: "-")) }
            writeDecimal(int.magnitude.toUInt64, into: &out)
        case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
        case .double(let double): out.append(contentsOf: (double.isFinite ? String(double) : "null").utf8)
        }
    }

    static func writeDecimal(_ value: UInt64, into out: inout [UInt8]) {
        guard value >= 10 else {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        // Digits written backwards into 24 bytes on the stack, then appended at once.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var index = raw.count
            var rest = value
            while rest > 0 {
                index -= 1
                raw[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[index...]))
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends the bytes of a constant string.
    mutating func append(static text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}
