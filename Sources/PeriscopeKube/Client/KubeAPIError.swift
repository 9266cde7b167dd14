import FoundationEssentials
import PeriscopeSystem

/// A request to the API server failed. `code` is stable and tells a caller what to do.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// 400: the request is malformed; fix it, do not retry.
        public static let badRequest = Code(rawValue: "kube.bad_request")
        /// 401: the credentials were refused (expired or rotated token?).
        public static let unauthorized = Code(rawValue: "kube.unauthorized")
        /// 403: authenticated but RBAC denies it.
        public static let forbidden = Code(rawValue: "kube.forbidden")
        /// 404: the object (or its namespace) does not exist.
        public static let notFound = Code(rawValue: "kube.not_found")
        /// 409 `AlreadyExists`: create of a name that is taken.
        public static let alreadyExists = Code(rawValue: "kube.already_exists")
        /// 409 `Conflict`: stale resourceVersion or a server-side apply field conflict; re-read and retry.
        public static let conflict = Code(rawValue: "kube.conflict")
        /// 410 `Expired`/`Gone`: the resourceVersion or continue token is too old; relist.
        public static let expired = Code(rawValue: "kube.expired")
        /// 422 `Invalid`: the object fails validation; `status.details.causes` say which fields.
        public static let invalid = Code(rawValue: "kube.invalid")
        /// 429: throttled; wait `retryAfter` and retry.
        public static let tooManyRequests = Code(rawValue: "kube.too_many_requests")
        /// 5xx: the server failed; retry with backoff.
        public static let serverError = Code(rawValue: "kube.server_error")
        /// The connection failed (DNS, refused, reset, TLS verification…).
        public static let transport = Code(rawValue: "kube.transport")
        /// The response could not be decoded into the expected type.
        public static let decoding = Code(rawValue: "kube.decoding")
        /// Any other HTTP status.
        public static let unexpectedStatus = Code(rawValue: "kube.unexpected_status")
    }

    public var code: Code
    /// HTTP status, 0 when no response was received.
    public var httpStatus: Int
    public var message: String
    /// The decoded `Status` body, when the server sent one.
    public var status: KubeStatus?
    /// From `Retry-After` (429, 503) or `details.retryAfterSeconds`.
    public var retryAfter: Duration?
    public var cause: (any Error & Sendable)?

    public init(
        code: Code, httpStatus: Int = 0, message: String, status: KubeStatus? = nil, retryAfter: Duration? = nil,
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.httpStatus = httpStatus
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
        self.cause = cause
    }

    /// Field-level causes of a 422.
    public var causes: [KubeStatus.Cause] { status?.details?.causes ?? [] }

    /// Whether retrying the same request later may succeed.
    public var isRetryable: Bool {
        [.tooManyRequests, .serverError, .transport].contains(code)
    }

    public var description: String {
        var text = "\(code) (HTTP \(httpStatus)): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    /// Decodes an error response: the `Status` body when there is one, else the HTTP status alone.
    /// `headers` keys are lower-case.
    public static func from(httpStatus: Int, headers: [String: String], body: Data) -> KubeAPIError {
        let status = try? JSONDecoder().decode(KubeStatus.self, from: body)
        let statusObject = (status?.kind == "Status") ? status : nil
        return from(status: statusObject, httpStatus: httpStatus, headers: headers, fallbackBody: body)
    }

    /// Decodes the `Status` of a watch `ERROR` event (sent with HTTP 200).
    public static func from(watchStatus status: KubeStatus) -> KubeAPIError {
        from(status: status, httpStatus: status.code ?? 500, headers: [:], fallbackBody: Data())
    }

    static func from(status: KubeStatus?, httpStatus: Int, headers: [String: String], fallbackBody: Data)
        -> KubeAPIError
    {
        let effective = status?.code ?? httpStatus
        let reason = status?.reason
        let code: Code
        switch effective {
        case 400: code = .badRequest
        case 401: code = .unauthorized
        case 403: code = .forbidden
        case 404: code = .notFound
        case 409: code = reason == "AlreadyExists" ? .alreadyExists : .conflict
        case 410: code = .expired
        case 422: code = .invalid
        case 429: code = .tooManyRequests
        case 500...599: code = .serverError
        default: code = reason == "Expired" || reason == "Gone" ? .expired : .unexpectedStatus
        }
        var retryAfter: Duration?
        if let header = headers["retry-after"], let seconds = Int(header.trimmingWhitespace()) {
            retryAfter = .seconds(seconds)
        } else if let seconds = status?.details?.retryAfterSeconds {
            retryAfter = .seconds(seconds)
        }
        let message =
            status?.message
            ?? String(decoding: fallbackBody.prefix(512), as: UTF8.self).trimmingWhitespace()
        return KubeAPIError(
            code: code, httpStatus: httpStatus, message: message.isEmpty ? "HTTP \(httpStatus)" : message,
            status: status, retryAfter: retryAfter)
    }
}
