import FoundationEssentials
import PeriscopeCore
import PeriscopeHTTPClient

/// POSTs OTLP protobuf bodies through the shared HTTP client, whose connections stay open
/// between requests. Called from the exporter's own thread.
final class OTLPHTTPClient {
    /// What one request came to, for the retry policy and the log.
    struct Result {
        var response: ExportRetryPolicy.Response
        /// Why there was no response.
        var transportError: String?
    }

    private let client: HTTPClient
    private let headers: [ExportConfiguration.Header]

    init(headers: [ExportConfiguration.Header], client: HTTPClient = HTTPClient(configuration: .init(idleHandles: 1), name: "periscope-otlp")) {
        self.client = client
        self.headers = headers
    }

    /// Sends `body` and waits for the answer, at most `timeout`.
    func post(url: String, body: Data, gzip: Bool, timeout: Duration) -> Result {
        var lines: [(name: String, value: String)] = [
            ("Content-Type", "application/x-protobuf"), ("User-Agent", "periscope-agent/\(TelemetryResource.sdkVersion)"),
        ]
        if gzip { lines.append(("Content-Encoding", "gzip")) }
        lines += headers.map { ($0.name, $0.value) }
        let request = HTTPClientRequest(
            method: "POST", url: url, headers: lines, body: body, timeout: timeout, connectTimeout: min(timeout, .seconds(5)))
        do {
            let head = try client.perform(request)
            let retryAfter = head.headers["retry-after"].flatMap {
                ExportRetryPolicy.retryAfter($0, nowUnixSeconds: Int64(Date().timeIntervalSince1970))
            }
            return Result(response: .status(head.status, retryAfter: retryAfter))
        } catch {
            return Result(response: .transportFailure, transportError: error.message)
        }
    }
}
