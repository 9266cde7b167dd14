import FoundationEssentials

/// One HTTP request as the client builds it; the transport adds TLS and nothing else.
public struct KubeHTTPRequest: Sendable, Hashable {
    public var method: String
    /// Absolute URL: server + path + query.
    public var url: String
    public var headers: [String: String]
    public var body: Data?
    /// Whole-request timeout; `nil` for streams (watches end when the server or the caller says).
    public var timeout: Duration?

    public init(method: String, url: String, headers: [String: String] = [:], body: Data? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct KubeHTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Lower-case header names.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A piece of a streamed response: the head once, then body bytes as they arrive.
public enum KubeHTTPStreamPart: Sendable, Hashable {
    case head(status: Int, headers: [String: String])
    case body(Data)
}

/// Moves bytes to and from the API server. `CurlTransport` is the real one.
public protocol KubeTransport: Sendable {
    func send(_ request: KubeHTTPRequest) async throws -> KubeHTTPResponse
    /// Streams a long response (a watch). Cancelling the consuming task, or dropping the
    /// stream, aborts the transfer.
    func stream(_ request: KubeHTTPRequest) -> AsyncThrowingStream<KubeHTTPStreamPart, any Error>
}
