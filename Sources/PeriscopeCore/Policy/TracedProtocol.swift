/// A protocol decoder a policy can turn on under `spec.protocols`.
public enum TracedProtocol: String, Sendable, Hashable, CaseIterable {
    /// HTTP/1.x requests and responses, one span per exchange.
    case http
    /// TCP connections, one span per connection.
    case tcp
}
