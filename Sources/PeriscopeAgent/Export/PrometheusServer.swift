import Logging
import PeriscopeCore
import PeriscopeHTTPEndpoint

/// `GET /metrics` in the Prometheus text format; anything else gets 404 or 405.
public typealias PrometheusServer = PlainHTTPServer

extension PlainHTTPServer {
    /// Listens where `configuration` says; `render` builds the page on each scrape.
    static func prometheus(
        configuration: ExportConfiguration.Prometheus, logger: Logger, render: @escaping @Sendable () -> String
    ) throws(ExportError) -> PlainHTTPServer {
        do {
            return try PlainHTTPServer(
                name: "metrics", address: configuration.address, port: configuration.port, logger: logger
            ) { path in
                guard path == "/metrics" else {
                    return Response(status: "404 Not Found", body: "metrics are at /metrics\n")
                }
                return Response(status: "200 OK", contentType: PrometheusTextFormatter.contentType, body: render())
            }
        } catch {
            throw ExportError(code: .listen, message: error.message)
        }
    }
}
