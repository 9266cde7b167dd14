import Logging
import PeriscopeHTTPEndpoint

/// The controller's `/healthz`, `/readyz` and `/metrics` endpoint.
public typealias HealthServer = PlainHTTPServer

extension PlainHTTPServer {
    /// Listens on `address:port` (0 picks a free port); `handler` answers a path.
    public static func health(
        address: String, port: UInt16, logger: Logger, handler: @escaping @Sendable (String) -> Response
    ) throws(ControllerError) -> PlainHTTPServer {
        do {
            return try PlainHTTPServer(name: "health", address: address, port: port, logger: logger, handler: handler)
        } catch {
            throw ControllerError(code: .listen, message: error.message)
        }
    }
}
