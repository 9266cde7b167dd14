/// The API server's `Status` object: the body of every error response and of `ERROR` watch events.
public struct KubeStatus: Codable, Sendable, Hashable {
    public var kind: String? = "Status"
    public var apiVersion: String? = "v1"
    /// `Success` or `Failure`.
    public var status: String?
    public var message: String?
    /// CamelCase machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Expired`…
    public var reason: String?
    public var details: Details?
    public var code: Int?

    public struct Details: Codable, Sendable, Hashable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int?

        public init(
            name: String? = nil, group: String? = nil, kind: String? = nil, causes: [Cause]? = nil,
            retryAfterSeconds: Int? = nil
        ) {
            self.name = name
            self.group = group
            self.kind = kind
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// One field-level reason, e.g. `FieldValueInvalid` at `spec.ports.port`.
    public struct Cause: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public var field: String?

        public init(reason: String?, message: String?, field: String?) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public init(code: Int, reason: String, message: String, details: Details? = nil) {
        self.status = "Failure"
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }
}
