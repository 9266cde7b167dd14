/// A protocol decoder a policy can turn on under `spec.protocols`.
public enum TracedProtocol: String, Sendable, Hashable, CaseIterable {
    /// HTTP requests and responses, one span per exchange: HTTP/1.x, and HTTP/2 with one
    /// span per stream (gRPC calls included).
    case http
    /// gRPC calls only (on HTTP/2), one span per call: listed alone it traces RPCs without
    /// the rest of HTTP.
    case grpc
    /// TCP connections, one span per connection.
    case tcp
    /// PostgreSQL (protocol 3), one span per statement run.
    case postgresql
    /// MySQL and MariaDB, one span per command.
    case mysql
    /// Redis (RESP2 and RESP3), one span per command.
    case redis
}
