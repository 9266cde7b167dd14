/// Encodes spans as an OTLP `ExportTraceServiceRequest` (protobuf), grouped by resource:
/// one `ResourceSpans` per group, one `ScopeSpans` (scope `periscope`) in each.
public enum OTLPTraceEncoder {
    /// Spans reported under one resource.
    public struct ResourceGroup: Sendable {
        public var resource: TelemetryResource
        public var spans: [Span]

        public init(resource: TelemetryResource, spans: [Span]) {
            self.resource = resource
            self.spans = spans
        }
    }

    public static func encode(_ groups: [ResourceGroup]) -> [UInt8] {
        var writer = ProtobufWriter(reservingCapacity: groups.reduce(0) { $0 + $1.spans.count } * 640 + 512)
        for group in groups {
            writer.message(1) { resourceSpans in
                resourceSpans.resource(1, group.resource)
                resourceSpans.message(2) { scopeSpans in
                    scopeSpans.scope(1)
                    for span in group.spans {
                        scopeSpans.message(2) { $0.span(span) }
                    }
                }
            }
        }
        return writer.bytes
    }
}

extension Span.Kind {
    /// OTLP `Span.SpanKind`.
    var otlpValue: UInt64 {
        switch self {
        case .internal: 1
        case .server: 2
        case .client: 3
        }
    }
}

extension Span.Status {
    /// OTLP `Status.StatusCode`.
    var otlpValue: UInt64 {
        switch self {
        case .unset: 0
        case .ok: 1
        case .error: 2
        }
    }
}

extension ProtobufWriter {
    /// The fields of one OTLP `Span`.
    mutating func span(_ span: Span) {
        bigEndianBytes(1, span.traceID.high, span.traceID.low)
        bigEndianBytes(2, span.spanID.value)
        if let parent = span.parentSpanID { bigEndianBytes(4, parent.value) }
        string(5, span.name)
        uint64(6, span.kind.otlpValue)
        fixed64(7, span.startTimeUnixNano)
        fixed64(8, span.endTimeUnixNano)
        // The attributes straight from the span, without a list of them or a string per key.
        var attributes = SpanAttributeFields(field: 9)
        swap(&attributes.writer, &self)
        span.visitAttributes(&attributes)
        swap(&attributes.writer, &self)
        if span.status != .unset || span.statusMessage != nil {
            message(15) { status in
                status.string(2, span.statusMessage ?? "")
                status.uint64(3, span.status.otlpValue)
            }
        }
    }
}

/// Writes a span's attributes as `KeyValue` fields. A constant key's `KeyValue` has its
/// length known before it is written, so its prefix goes first rather than being inserted.
private struct SpanAttributeFields: SpanAttributeVisitor {
    let field: Int
    var writer = ProtobufWriter()

    init(field: Int) {
        self.field = field
    }

    mutating func visit(_ key: StaticString, _ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            // AnyValue { string_value = 1 }, written even when empty.
            let any = 1 + ProtobufWriter.varintSize(UInt64(utf8.count)) + utf8.count
            begin(key, valueSize: any)
            writer.tag(1, .lengthDelimited)
            writer.varint(UInt64(utf8.count))
            writer.append(utf8)
        }
    }

    mutating func visit(_ key: StaticString, _ value: Int) {
        // AnyValue { int_value = 3 }, written even when zero.
        let number = UInt64(bitPattern: Int64(value))
        begin(key, valueSize: 1 + ProtobufWriter.varintSize(number))
        writer.tag(3, .varint)
        writer.varint(number)
    }

    mutating func visit(_ key: StaticString, host address: SocketAddress) {
        visit(key, address.host)
    }

    mutating func visit(_ attribute: Attribute) {
        writer.attribute(field, key: attribute.key, value: attribute.value)
    }

    /// The `KeyValue`'s tag, length and key, then the tag and length of its `value`, whose
    /// `AnyValue` is `valueSize` bytes.
    private mutating func begin(_ key: StaticString, valueSize: Int) {
        let keyCount = key.utf8CodeUnitCount
        let keySize = keyCount == 0 ? 0 : 1 + ProtobufWriter.varintSize(UInt64(keyCount)) + keyCount
        let size = keySize + 1 + ProtobufWriter.varintSize(UInt64(valueSize)) + valueSize
        writer.tag(field, .lengthDelimited)
        writer.varint(UInt64(size))
        if keyCount > 0 {
            writer.tag(1, .lengthDelimited)
            writer.varint(UInt64(keyCount))
            writer.append(UnsafeBufferPointer(start: key.utf8Start, count: keyCount))
        }
        writer.tag(2, .lengthDelimited)
        writer.varint(UInt64(valueSize))
    }
}
