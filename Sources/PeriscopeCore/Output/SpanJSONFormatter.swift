/// A span as one line of JSON with OpenTelemetry's OTLP/JSON field names: hex ids,
/// 64-bit times as strings, enum names for kind and status, and the semantic-convention
/// attributes as one flat object with typed values; in a cluster, the pod's resource
/// attributes (`k8s.pod.name`, …) as a `resource` object.
public struct SpanJSONFormatter: Sendable {
    public init() {}

    /// The span formatted with the default settings.
    public static func format(_ span: Span, resource: [String: String]? = nil) -> String {
        Self().format(span, resource: resource)
    }

    /// One JSON object, without a trailing newline.
    public func format(_ span: Span, resource: [String: String]? = nil) -> String {
        var fields = [
            field("traceId", JSONString.quoted(span.traceID.hex)),
            field("spanId", JSONString.quoted(span.spanID.hex)),
        ]
        if let parent = span.parentSpanID {
            fields.append(field("parentSpanId", JSONString.quoted(parent.hex)))
        }
        fields += [
            field("name", JSONString.quoted(span.name)),
            field("kind", JSONString.quoted("SPAN_KIND_" + span.kind.rawValue)),
            field("startTimeUnixNano", JSONString.quoted(String(span.startTimeUnixNano))),
            field("endTimeUnixNano", JSONString.quoted(String(span.endTimeUnixNano))),
        ]
        var status = [field("code", JSONString.quoted("STATUS_CODE_" + span.status.rawValue))]
        if let message = span.statusMessage {
            status.append(field("message", JSONString.quoted(message)))
        }
        fields.append(field("status", object(status)))
        fields.append(field("attributes", object(span.attributes.map { field($0.key, Self.json($0.value)) })))
        if let resource, !resource.isEmpty {
            fields.append(field("resource", object(resource.sorted { $0.key < $1.key }.map { field($0.key, JSONString.quoted($0.value)) })))
        }
        return object(fields)
    }

    static func json(_ value: AttributeValue) -> String {
        switch value {
        case .string(let string): JSONString.quoted(string)
        case .int(let int): String(int)
        case .bool(let bool): bool ? "true" : "false"
        case .double(let double): double.isFinite ? String(double) : "null"
        }
    }

    private func field(_ key: String, _ json: String) -> String {
        JSONString.quoted(key) + ":" + json
    }

    private func object(_ fields: [String]) -> String {
        "{" + fields.joined(separator: ",") + "}"
    }
}
