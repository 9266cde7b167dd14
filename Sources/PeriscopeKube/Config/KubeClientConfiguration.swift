import FoundationEssentials

/// How to reach and authenticate to one API server. Built from a kubeconfig
/// (`Kubeconfig.configuration(context:)`), from the pod's service account
/// (`KubeClientConfiguration.inCluster(environment:)`), or by `load(environment:)` which picks.
public struct KubeClientConfiguration: Sendable, Hashable {
    /// PEM material given inline or as a file path (read by libcurl on each connection).
    public enum Material: Sendable, Hashable {
        case file(String)
        case data(Data)
    }

    /// What the client sends as `Authorization`.
    public enum Credentials: Sendable, Hashable {
        case none
        case token(String)
        /// A bearer token file, re-read whenever it changes (projected service-account tokens rotate).
        case tokenFile(String)
    }

    /// `https://host:port` (IPv6 hosts bracketed). No default.
    public var server: String
    public var certificateAuthority: Material?
    public var clientCertificate: Material?
    public var clientKey: Material?
    /// kubeconfig `insecure-skip-tls-verify`. Default `false`.
    public var insecureSkipTLSVerify: Bool
    public var credentials: Credentials
    /// The namespace of the context or of the service account. Default `default`.
    public var namespace: String
    /// Sent as `User-Agent`. Default `periscope`.
    public var userAgent: String
    /// Timeout of non-watch requests. Default 30 s.
    public var requestTimeout: Duration
    /// How many times a 429 or 5xx carrying `Retry-After` is retried. Default 5.
    public var maxRetries: Int

    public init(
        server: String, certificateAuthority: Material? = nil, clientCertificate: Material? = nil,
        clientKey: Material? = nil, insecureSkipTLSVerify: Bool = false, credentials: Credentials = .none,
        namespace: String = "default", userAgent: String = "periscope", requestTimeout: Duration = .seconds(30),
        maxRetries: Int = 5
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credentials = credentials
        self.namespace = namespace
        self.userAgent = userAgent
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
    }

    /// The usual order for a controller: `KUBECONFIG` (several files merged), then the pod's
    /// service account when `KUBERNETES_SERVICE_HOST` is set, then `$HOME/.kube/config`.
    public static func load(
        environment: [String: String],
        serviceAccountDirectory: String = InClusterConfiguration.defaultServiceAccountDirectory
    ) throws -> KubeClientConfiguration {
        if let paths = environment["KUBECONFIG"], !paths.isEmpty {
            return try Kubeconfig.load(paths: paths.split(separator: ":").map(String.init)).configuration()
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try InClusterConfiguration.load(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        if let home = environment["HOME"], FileManager.default.fileExists(atPath: "\(home)/.kube/config") {
            return try Kubeconfig.load(paths: ["\(home)/.kube/config"]).configuration()
        }
        throw KubeConfigurationError(
            code: .noConfiguration,
            message: "no Kubernetes configuration: set KUBECONFIG, run in a pod with a service account, or create ~/.kube/config")
    }
}
