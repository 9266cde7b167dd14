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
        for attribute in span.attributes {
            self.attribute(9, key: attribute.key, value: attribute.value)
        }
        if span.status != .unset || span.statusMessage != nil {
            message(15) { status in
                status.string(2, span.statusMessage ?? "")
                status.uint64(3, span.status.otlpValue)
            }
        }
    }
}
