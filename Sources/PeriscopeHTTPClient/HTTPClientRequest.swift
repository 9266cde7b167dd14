import FoundationEssentials

/// One request: the client adds TLS, connection reuse and nothing else.
public struct HTTPClientRequest: Sendable, Hashable {
    public var method: String
    /// Absolute URL.
    public var url: String
    public var headers: [(name: String, value: String)] {
        get { headerFields.map { ($0.name, $0.value) } }
        set { headerFields = newValue.map { HeaderField(name: $0.name, value: $0.value) } }
    }
    public var body: Data?
    /// Whole-transfer timeout; nil for streams that last as long as the server or caller says.
    public var timeout: Duration?
    /// Longest wait for a connection, when shorter than the client's.
    public var connectTimeout: Duration?

    struct HeaderField: Sendable, Hashable {
        var name: String
        var value: String
    }

    private var headerFields: [HeaderField]

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: Data? = nil, timeout: Duration? = nil,
        connectTimeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headerFields = headers.map { HeaderField(name: $0.name, value: $0.value) }
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }
}

/// The status line and headers of a response (header names lower-cased).
public struct HTTPClientResponseHead: Sendable, Hashable {
    public var status: Int
    public var headers: [String: String]
    /// `1.1` or `2`, as the connection spoke; filled in when the transfer completes.
    public var version: String?

    public init(status: Int, headers: [String: String], version: String? = nil) {
        self.status = status
        self.headers = headers
        self.version = version
    }
}

public struct HTTPClientResponse: Sendable, Hashable {
    public var status: Int
    /// Lower-case names.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A piece of a streamed response: the head once, then body bytes as they arrive.
public enum HTTPClientStreamPart: Sendable, Hashable {
    case head(status: Int, headers: [String: String])
    case body(Data)
}

/// A transfer that did not complete. `code` is stable.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No response: connection refused or reset, DNS, TLS, timeout.
        public static let transport = Code(rawValue: "http.transport")
        /// The server's certificate is not trusted by the configured authority.
        public static let untrustedServer = Code(rawValue: "http.untrusted_server")
        /// The caller cancelled.
        public static let cancelled = Code(rawValue: "http.cancelled")
    }

    public var code: Code
    public var message: String
    /// libcurl's `CURLcode`, when it failed.
    public var curlCode: Int?

    public init(code: Code, message: String, curlCode: Int? = nil) {
        self.code = code
        self.message = message
        self.curlCode = curlCode
    }

    public var description: String { message }
}
