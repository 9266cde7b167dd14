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
        out.reserveCapacity(out.count + 1024)
        out.append(static: #"{"traceId":""#)
        span.traceID.writeHex(into: &out)
        out.append(static: #"","spanId":""#)
        span.spanID.writeHex(into: &out)
        if let parent = span.parentSpanID {
            out.append(static: #"","parentSpanId":""#)
            parent.writeHex(into: &out)
        }
        out.append(static: #"","name":"#)
        JSONString.write(span.name, into: &out)
        out.append(static: #","kind":"SPAN_KIND_"#)
        switch span.kind {
        case .server: out.append(static: "SERVER")
        case .client: out.append(static: "CLIENT")
        case .internal: out.append(static: "INTERNAL")
        }
        out.append(static: #"","startTimeUnixNano":""#)
        Self.writeDecimal(span.startTimeUnixNano, into: &out)
        out.append(static: #"","endTimeUnixNano":""#)
        Self.writeDecimal(span.endTimeUnixNano, into: &out)
        out.append(static: #"","status":{"code":"STATUS_CODE_"#)
        switch span.status {
        case .unset: out.append(static: "UNSET")
        case .ok: out.append(static: "OK")
        case .error: out.append(static: "ERROR")
        }
        out.append(UInt8(ascii: "\""))
        if let message = span.statusMessage {
            out.append(static: #","message":"#)
            JSONString.write(message, into: &out)
        }
        out.append(static: #"},"attributes":{"#)
        // The writer takes the buffer over while it writes, so appends never copy it.
        var attributes = AttributeWriter(out: [])
        swap(&out, &attributes.out)
        span.visitAttributes(&attributes)
        swap(&out, &attributes.out)
        out.append(UInt8(ascii: "}"))
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

    /// Writes attributes as `"key":value` members, comma-separated.
    private struct AttributeWriter: SpanAttributeVisitor {
        var out: [UInt8]
        var first = true

        private mutating func key(_ key: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            // Constant keys are plain ASCII: nothing to escape.
            out.append(UInt8(ascii: "\""))
            out.append(static: key)
            out.append(static: "\":")
        }

        mutating func visit(_ key: StaticString, _ value: String) {
            self.key(key)
            JSONString.write(value, into: &out)
        }

        mutating func visit(_ key: StaticString, _ value: Int) {
            self.key(key)
            SpanJSONFormatter.write(.int(value), into: &out)
        }

        mutating func visit(_ key: StaticString, host address: SocketAddress) {
            self.key(key)
            out.append(UInt8(ascii: "\""))
            if address.isIPv4 {
                address.writeHost(into: &out)
            } else {
                JSONString.writeContents(address.host, into: &out)
            }
            out.append(UInt8(ascii: "\""))
        }

        mutating func visit(_ attribute: Attribute) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONString.write(attribute.key, into: &out)
            out.append(UInt8(ascii: ":"))
            SpanJSONFormatter.write(attribute.value, into: &out)
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
