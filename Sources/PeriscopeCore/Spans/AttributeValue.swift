/// A typed span attribute value, as OpenTelemetry's `AnyValue` carries it.
public enum AttributeValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case double(Double)
}
