/// A failure of a `periscopectl` command, with a stable code and the exit status scripts see.
public struct CtlError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A flag's value is malformed (`--ports`, `--sampling`). Exit status 64.
        public static let invalidArgument = Code(rawValue: "ctl.invalid_argument")
        /// No usable kubeconfig or service account. Exit status 2.
        public static let configuration = Code(rawValue: "ctl.configuration")
        /// The API server could not be reached. Exit status 2.
        public static let unreachable = Code(rawValue: "ctl.unreachable")
        /// The API server refused or failed the request (forbidden, invalid, conflict, 5xx). Exit status 1.
        public static let api = Code(rawValue: "ctl.api")
        /// The namespace does not exist. Exit status 4.
        public static let namespaceNotFound = Code(rawValue: "ctl.namespace_not_found")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The process exit status for this failure (see `ExitStatus`).
    public var exitStatus: Int32 {
        switch code {
        case .invalidArgument: ExitStatus.usage
        case .configuration, .unreachable: ExitStatus.unreachable
        case .namespaceNotFound: ExitStatus.notFound
        default: ExitStatus.failure
        }
    }

    public var description: String {
        cause.map { "\(message): \($0)" } ?? message
    }
}

/// Exit statuses `periscopectl` guarantees.
public enum ExitStatus {
    /// The command did what was asked (for `status`: everything is applied and healthy).
    public static let success: Int32 = 0
    /// The API server refused or failed a request.
    public static let failure: Int32 = 1
    /// No configuration to reach a cluster, or the cluster could not be reached.
    public static let unreachable: Int32 = 2
    /// `status` only: a policy is not Ready or an agent is unhealthy.
    public static let degraded: Int32 = 3
    /// The namespace named does not exist.
    public static let notFound: Int32 = 4
    /// Bad flags or arguments.
    public static let usage: Int32 = 64
}
