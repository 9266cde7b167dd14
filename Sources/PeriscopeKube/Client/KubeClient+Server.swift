import FoundationEssentials

/// What `GET /version` says about the API server.
public struct ServerVersion: Codable, Sendable, Hashable {
    public var major: String
    public var minor: String
    /// `v1.32.0`, as kubectl prints it.
    public var gitVersion: String
    public var platform: String?

    public init(major: String, minor: String, gitVersion: String, platform: String? = nil) {
        self.major = major
        self.minor = minor
        self.gitVersion = gitVersion
        self.platform = platform
    }
}

extension KubeClient {
    /// The API server's version (`GET /version`).
    public func serverVersion() async throws -> ServerVersion {
        try await decode(ServerVersion.self, from: request("GET", "/version"))
    }

    /// Whether the API server says it is ready to serve (`GET /readyz` answers 200). Any error,
    /// status or unreachable server is "not ready"; never retried, so it answers within `timeout`.
    public func isServerReady(timeout: Duration = .seconds(2)) async -> Bool {
        do {
            var probe = try makeRequest("GET", "/readyz", timeout: timeout)
            probe.headers["Accept"] = "text/plain"
            return try await transport.send(probe).status == 200
        } catch {
            return false
        }
    }
}
