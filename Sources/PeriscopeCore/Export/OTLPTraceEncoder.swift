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

    /// What a span usually takes, for the room reserved up front and the length slots of
    /// the messages around spans.
    static let typicalSpanSize = 700

    public static func encode(_ groups: [ResourceGroup]) -> [UInt8] {
        let spanCount = groups.reduce(0) { $0 + $1.spans.count }
        var writer = ProtobufWriter(reservingCapacity: spanCount * typicalSpanSize + 512)
        encode(groups, into: &writer)
        return writer.bytes
    }

    /// Encodes into `writer`, emptied first: an exporter reuses one writer for every batch,
    /// and sends straight from its bytes. The connection attributes a span shares with the
    /// spans of its connection that `writer` encoded before are copied from what it wrote
    /// for them.
    public static func encode(_ groups: [ResourceGroup], into writer: inout ProtobufWriter) {
        writer.removeAll()
        writer.keepConnectionBlocks()
        for group in groups {
            let expected = group.spans.count * typicalSpanSize
            writer.message(1, expectedSize: expected + 256) { resourceSpans in
                resourceSpans.resource(1, group.resource)
                resourceSpans.message(2, expectedSize: expected + 32) { scopeSpans in
                    scopeSpans.scope(1)
                    // Each span read where the list holds it, never copied out.
                    group.spans.withUnsafeBufferPointer { spans in
                        for index in spans.indices {
                            scopeSpans.message(2, expectedSize: typicalSpanSize) { $0.span(spans[index]) }
                        }
                    }
                }
            }
        }
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
    /// The fields of one OTLP `Span`. `commonHTTP`: whether HTTP attributes of the common
    /// shape are written in one pass (`OTLPTraceEncoder.writeCommonHTTPAttributes`); false,
    /// for tests, to write them all one by one.
    mutating func span(_ span: Span, commonHTTP: Bool = true) {
        // Ids, kind and times have known sizes: room for them all made at once (the name's
        // too), then written unchecked.
        writer.reserve(96 + span.name.utf8.count)
        writer.uncheckedByte(1 << 3 | 2)
        writer.uncheckedByte(16)
        writer.uncheckedBigEndian64(span.traceID.high)
        writer.uncheckedBigEndian64(span.traceID.low)
        writer.uncheckedByte(2 << 3 | 2)
        writer.uncheckedByte(8)
        writer.uncheckedBigEndian64(span.spanID.value)
        if let parent = span.parentSpanID {
            writer.uncheckedByte(4 << 3 | 2)
            writer.uncheckedByte(8)
            writer.uncheckedBigEndian64(parent.value)
        }
        string(5, span.name)
        // Zero, the default, is not written (kind is never zero).
        writer.uncheckedByte(6 << 3)
        writer.uncheckedByte(UInt8(truncatingIfNeeded: span.kind.otlpValue))
        if span.startTimeUnixNano != 0 {
            writer.uncheckedByte(7 << 3 | 1)
            writer.uncheckedLittleEndian64(span.startTimeUnixNano)
        }
        if span.endTimeUnixNano != 0 {
            writer.uncheckedByte(8 << 3 | 1)
            writer.uncheckedLittleEndian64(span.endTimeUnixNano)
        }
        // The attributes straight from the span, without a list of them or a string per
        // key: HTTP's of the common shape in one pass, else one by one; the visitor writes
        // through its own copy of the writer, taken back afterwards.
        let written = commonHTTP && span.protocolAttributes.isEmpty
            && span.readHTTPInPlace { http in OTLPTraceEncoder.writeCommonHTTPAttributes(&http, to: &writer) } == true
        var attributes = SpanAttributeFields(field: 9, writer: writer)
        if !written { span.visitRequestAttributes(&attributes) }
        if let connectionBlocks {
            attributes.connectionAttributes(of: span, blocks: &connectionBlocks.pointee)
        } else {
            span.visitConnectionAttributes(&attributes)
        }
        span.visitTCPAttributes(&attributes)
        writer = attributes.writer
        if span.status != .unset || span.statusMessage != nil {
            message(15, expectedSize: 64) { status in
                status.string(2, span.statusMessage ?? "")
                status.uint64(3, span.status.otlpValue)
            }
        }
    }
}

/// Writes a span's attributes as `KeyValue` fields. A `KeyValue` has its length known
/// before it is written (a constant key, a value whose size is counted first), so its
/// prefix goes first, nothing is moved, and the room for all of it is made at once.
private struct SpanAttributeFields: SpanAttributeVisitor {
    let field: Int
    var writer: ByteWriter
    var recent = RecentIPv4()

    /// `span.visitConnectionAttributes`, copied from `blocks` when they hold the span's
    /// connection, else written and kept there.
    mutating func connectionAttributes(of span: Span, blocks: inout ConnectionAttributeBlocks) {
        let set = ConnectionAttributeBlocks.set(of: span)
        if blocks.withBlock(for: span, set: set, { block in writer.bytes(block) }) { return }
        let start = writer.count
        span.visitConnectionAttributes(&self)
        blocks.keep(UnsafeBufferPointer(rebasing: writer.written[start...]), for: span, set: set)
    }

    @inline(__always)
    mutating func visit(_ key: StaticString, _ value: String) {
        let lent: Void? = value.utf8.withContiguousStorageIfAvailable { string(key, $0) }
        if lent == nil {
            var value = value
            value.withUTF8 { string(key, $0) }
        }
    }

    /// ASCII, the usual case, is written as it is; anything else goes through a string,
    /// which replaces what is not UTF-8 (protobuf strings must be UTF-8).
    @inline(__always)
    mutating func visit(_ key: StaticString, utf8 value: UnsafeBufferPointer<UInt8>) {
        guard ByteWriter.isASCII(value) else {
            visit(key, String(decoding: value, as: UTF8.self))
            return
        }
        string(key, value)
    }

    @inline(__always)
    mutating func visit(_ key: StaticString, constant value: StaticString) {
        string(key, UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    /// AnyValue { string_value = 1 }, written even when empty.
    @inline(__always)
    private mutating func string(_ key: StaticString, _ utf8: UnsafeBufferPointer<UInt8>) {
        let count = UInt64(utf8.count)
        begin(key, valueSize: 1 + ProtobufWriter.varintSize(count) + utf8.count)
        writer.uncheckedByte(0x0A)
        writer.uncheckedVarint(count)
        writer.uncheckedBytes(utf8)
    }

    @inline(__always)
    mutating func visit(_ key: StaticString, _ value: Int) {
        // AnyValue { int_value = 3 }, written even when zero.
        let number = UInt64(bitPattern: Int64(value))
        begin(key, valueSize: 1 + ProtobufWriter.varintSize(number))
        writer.uncheckedByte(0x18)
        writer.uncheckedVarint(number)
    }

    @inline(__always)
    mutating func visit(_ key: StaticString, host address: SocketAddress) {
        guard address.isIPv4 else {
            visit(key, address.host)
            return
        }
        // The dotted quad written in place, its length counted first.
        let length = recent.find(address)?.length ?? ByteWriter.ipv4Length(address)
        begin(key, valueSize: 2 + length)
        writer.uncheckedByte(0x0A)
        writer.uncheckedByte(UInt8(truncatingIfNeeded: length))
        writer.ipv4(address, recent: &recent)
    }

    mutating func visit(_ attribute: Attribute) {
        var fields = ProtobufWriter(adopting: writer)
        fields.attribute(field, key: attribute.key, value: attribute.value)
        writer = fields.release()
    }

    /// Makes room for the whole `KeyValue`, then writes its tag, length and key, and the
    /// tag and length of its `value`, whose `AnyValue` is `valueSize` bytes and follows.
    @inline(__always)
    private mutating func begin(_ key: StaticString, valueSize: Int) {
        let keyCount = key.utf8CodeUnitCount
        let keySize = keyCount == 0 ? 0 : 1 + ProtobufWriter.varintSize(UInt64(keyCount)) + keyCount
        let size = keySize + 1 + ProtobufWriter.varintSize(UInt64(valueSize)) + valueSize
        writer.reserve(20 + size)
        writer.uncheckedVarint(UInt64(field) << 3 | 2)
        writer.uncheckedVarint(UInt64(size))
        if keyCount > 0 {
            writer.uncheckedByte(0x0A)
            writer.uncheckedVarint(UInt64(keyCount))
            writer.uncheckedBytes(UnsafeBufferPointer(start: key.utf8Start, count: keyCount))
        }
        writer.uncheckedByte(0x12)
        writer.uncheckedVarint(UInt64(valueSize))
    }
}
