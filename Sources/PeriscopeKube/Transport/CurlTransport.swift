import FoundationEssentials
import PeriscopeHTTPClient

/// `KubeTransport` over the shared libcurl client (`HTTPClient`): connections to the API server
/// are kept and reused across requests, HTTP/2 where the server offers it; transfers block on
/// threads of their own, never on the cooperative pool, and end when the caller cancels.
public struct CurlTransport: KubeTransport {
    /// TLS settings for every request.
    public struct TLS: Sendable, Hashable {
        public var certificateAuthority: KubeClientConfiguration.Material?
        public var clientCertificate: KubeClientConfiguration.Material?
        public var clientKey: KubeClientConfiguration.Material?
        public var insecureSkipVerify: Bool

        public init(
            certificateAuthority: KubeClientConfiguration.Material? = nil,
            clientCertificate: KubeClientConfiguration.Material? = nil,
            clientKey: KubeClientConfiguration.Material? = nil, insecureSkipVerify: Bool = false
        ) {
            self.certificateAuthority = certificateAuthority
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.insecureSkipVerify = insecureSkipVerify
        }
    }

    public let client: HTTPClient

    /// Requests sent at once by default: enough for a controller's burst of writes (its first
    /// resolution) to keep the API server busy rather than wait on round trips.
    public static let defaultConcurrentRequests = 16

    /// - Parameter concurrentRequests: requests in flight at once (watches not counted: each
    ///   streams on a thread of its own); as many connections are kept open between requests,
    ///   so a burst reuses them instead of opening new ones.
    public init(tls: TLS = TLS(), connectTimeout: Duration = .seconds(10), concurrentRequests: Int = CurlTransport.defaultConcurrentRequests) {
        func material(_ material: KubeClientConfiguration.Material?) -> HTTPClient.Configuration.Material? {
            switch material {
            case .file(let path)?: .file(path)
            case .data(let data)?: .data(data)
            case nil: nil
            }
        }
        client = HTTPClient(
            configuration: .init(
                certificateAuthority: material(tls.certificateAuthority), clientCertificate: material(tls.clientCertificate),
                clientKey: material(tls.clientKey), insecureSkipVerify: tls.insecureSkipVerify, connectTimeout: connectTimeout,
                idleHandles: max(1, concurrentRequests), concurrentTransfers: max(1, concurrentRequests)),
            name: "periscope-kube")
    }

    /// Connections opened to the API server so far.
    public var connectionsOpened: Int { client.connectionsOpened }

    public func send(_ request: KubeHTTPRequest) async throws -> KubeHTTPResponse {
        do {
            let response = try await client.send(Self.request(request))
            return KubeHTTPResponse(status: response.status, headers: response.headers, body: response.body)
        } catch {
            throw Self.error(error, request)
        }
    }

    public func stream(_ request: KubeHTTPRequest) -> AsyncThrowingStream<KubeHTTPStreamPart, any Error> {
        client.stream(
            Self.request(request), head: { .head(status: $0.status, headers: $0.headers) }, body: { .body($0) },
            error: { Self.error($0, request) })
    }

    static func request(_ request: KubeHTTPRequest) -> HTTPClientRequest {
        HTTPClientRequest(
            method: request.method, url: request.url, headers: request.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            body: request.body, timeout: request.timeout)
    }

    static func error(_ error: HTTPClientError, _ request: KubeHTTPRequest) -> any Error {
        if error.code == .cancelled { return CancellationError() }
        var message = error.message
        if error.code == .untrustedServer {
            message += " — the API server's certificate is not trusted by the configured certificate authority"
                + " (check certificate-authority / certificate-authority-data, or the service account's ca.crt)"
        }
        return KubeAPIError(code: .transport, message: message, cause: CurlError(code: error.curlCode ?? 0, message: error.message))
    }
}

/// A libcurl failure: `CURLcode` and its text.
public struct CurlError: Error, Sendable, Hashable {
    public var code: Int
    public var message: String
}
