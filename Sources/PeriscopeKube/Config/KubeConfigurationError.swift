/// Configuration could not be built. `code` is stable.
public struct KubeConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let noConfiguration = Code(rawValue: "kubeconfig.none")
        public static let unreadableFile = Code(rawValue: "kubeconfig.unreadable_file")
        public static let invalidKubeconfig = Code(rawValue: "kubeconfig.invalid")
        public static let missingContext = Code(rawValue: "kubeconfig.missing_context")
        public static let missingCluster = Code(rawValue: "kubeconfig.missing_cluster")
        public static let missingUser = Code(rawValue: "kubeconfig.missing_user")
        public static let unsupportedAuthentication = Code(rawValue: "kubeconfig.unsupported_authentication")
        public static let inClusterEnvironment = Code(rawValue: "incluster.environment")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
