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
        out.append(contentsOf: #"{"traceId":""#.utf8)
        span.traceID.writeHex(into: &out)
        out.append(contentsOf: #"","spanId":""#.utf8)
        span.spanID.writeHex(into: &out)
        if let parent = span.parentSpanID {
            out.append(contentsOf: #"","parentSpanId":""#.utf8)
            parent.writeHex(into: &out)
        }
        out.append(contentsOf: #"","name":"#.utf8)
        JSONString.write(span.name, into: &out)
        out.append(contentsOf: #","kind":"SPAN_KIND_"#.utf8)
        out.append(contentsOf: span.kind.rawValue.utf8)
        out.append(contentsOf: #"","startTimeUnixNano":""#.utf8)
        Self.writeDecimal(span.startTimeUnixNano, into: &out)
        out.append(contentsOf: #"","endTimeUnixNano":""#.utf8)
        Self.writeDecimal(span.endTimeUnixNano, into: &out)
        out.append(contentsOf: #"","status":{"code":"STATUS_CODE_"#.utf8)
        out.append(contentsOf: span.status.rawValue.utf8)
        out.append(UInt8(ascii: "\""))
        if let message = span.statusMessage {
            out.append(contentsOf: #","message":"#.utf8)
            JSONString.write(message, into: &out)
        }
        out.append(contentsOf: #"},"attributes":{"#.utf8)
        var first = true
        for (key, value) in span.attributes {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONString.write(key, into: &out)
            out.append(UInt8(ascii: ":"))
            Self.write(value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        if let resource, !resource.isEmpty {
            out.append(contentsOf: #","resource":{"#.utf8)
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
        var digits: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            let buffer = raw.bindMemory(to: UInt8.self)
            while rest > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}
