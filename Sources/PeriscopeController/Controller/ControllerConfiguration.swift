import PeriscopeKube

/// Settings of `periscope-controller`. Each field names its flag and environment variable;
/// the environment is passed in so tests can inject it.
public struct ControllerConfiguration: Sendable {
    /// `--identity`, `POD_NAME` (else `HOSTNAME`): this replica's name in the Lease.
    public var identity: String
    /// `--lease-name`, `PERISCOPE_LEASE_NAME`. Default `periscope-controller`.
    public var leaseName: String
    /// `--lease-namespace`, `POD_NAMESPACE`. Default: the namespace of the kubeconfig context
    /// or service account.
    public var leaseNamespace: String
    /// Lease validity without renewal (`--lease-duration`). Default 15 s.
    public var leaseDuration: Duration = .seconds(15)
    /// A leader that cannot renew for this long steps down (`--renew-deadline`). Default 10 s.
    public var renewDeadline: Duration = .seconds(10)
    /// Between acquire or renew attempts (`--retry-period`). Default 2 s.
    public var retryPeriod: Duration = .seconds(2)
    /// Give the lease up on graceful shutdown so another replica takes over at once. Default true.
    public var releaseLeaseOnShutdown = true
    /// `--health-address`, `PERISCOPE_HEALTH_ADDRESS`: IPv4 address of `/healthz`, `/readyz` and
    /// `/metrics`. Default `0.0.0.0`.
    public var healthAddress: String = "0.0.0.0"
    /// `--health-port`, `PERISCOPE_HEALTH_PORT`; 0 picks a free port. Default 8080.
    public var healthPort: UInt16 = 8080
    /// Field manager of every write. Default `periscope-controller`.
    public var fieldManager: String = "periscope-controller"
    /// Writes in flight at once. Default 16, as many as the API client sends at once: the first
    /// resolution's hundreds of writes then wait on the API server's work, not on round trips
    /// (a 429 from its priority and fairness is waited out, as its Retry-After says).
    public var writeConcurrency: Int = CurlTransport.defaultConcurrentRequests
    /// A full reconcile at least this often even without events. Default 5 minutes.
    public var resyncPeriod: Duration = .seconds(300)
    /// Informer settings (page size, watch timeouts, backoff).
    public var informer = InformerConfiguration()

    public init(identity: String, leaseNamespace: String, leaseName: String = "periscope-controller") {
        self.identity = identity
        self.leaseNamespace = leaseNamespace
        self.leaseName = leaseName
    }

    /// Defaults with the environment's overrides; `namespace` is the client's default namespace.
    public init(environment: [String: String], namespace: String) throws(ControllerError) {
        let identity = environment["POD_NAME"] ?? environment["HOSTNAME"] ?? "periscope-controller"
        self.init(
            identity: identity, leaseNamespace: environment["POD_NAMESPACE"] ?? namespace,
            leaseName: environment["PERISCOPE_LEASE_NAME"] ?? "periscope-controller")
        if let address = environment["PERISCOPE_HEALTH_ADDRESS"] { healthAddress = address }
        if let text = environment["PERISCOPE_HEALTH_PORT"] {
            guard let port = UInt16(text) else {
                throw ControllerError(code: .invalidConfiguration, message: "PERISCOPE_HEALTH_PORT=\(text) is not a port from 0 to 65535")
            }
            healthPort = port
        }
    }
}
