import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import PeriscopeSystem
import Logging
import PeriscopeController
import PeriscopeKube
import ServiceLifecycle

@main
struct PeriscopeControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope-controller",
        abstract: "Resolves every InstrumentationPolicy into one NodeInstrumentation per node and reports on each policy whether it is in force.",
        discussion: """
            Outside a cluster give --kubeconfig (or set KUBECONFIG); inside a pod the service account is used.
            Replicas elect a leader with a Lease; only the leader writes. /healthz, /readyz and /metrics are served on --health-port.
            """)

    @Option(name: .long, help: "kubeconfig file (default: KUBECONFIG, the pod's service account, then ~/.kube/config).")
    var kubeconfig: String?

    @Option(name: .long, help: "kubeconfig context (default: the current context).")
    var context: String?

    @Option(name: .long, help: "This replica's identity in the Lease (default: POD_NAME, then HOSTNAME).")
    var identity: String?

    @Option(name: .long, help: "Lease name (default: PERISCOPE_LEASE_NAME, then periscope-controller).")
    var leaseName: String?

    @Option(name: .long, help: "Lease namespace (default: POD_NAMESPACE, then the kubeconfig or service-account namespace).")
    var leaseNamespace: String?

    @Option(name: .long, help: "Seconds a lease is valid without renewal.")
    var leaseDuration: Double = 15

    @Option(name: .long, help: "Seconds a leader keeps trying to renew before stepping down.")
    var renewDeadline: Double = 10

    @Option(name: .long, help: "Seconds between acquire or renew attempts.")
    var retryPeriod: Double = 2

    @Option(name: .long, help: "IPv4 address of /healthz, /readyz and /metrics (default: PERISCOPE_HEALTH_ADDRESS, then 0.0.0.0).")
    var healthAddress: String?

    @Option(name: .long, help: "Port of /healthz, /readyz and /metrics; 0 picks one (default: PERISCOPE_HEALTH_PORT, then 8080).")
    var healthPort: UInt16?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard leaseDuration >= 1, leaseDuration > renewDeadline, renewDeadline > retryPeriod, retryPeriod >= 0.1 else {
            throw ValidationError("need --lease-duration (at least 1) > --renew-deadline > --retry-period (at least 0.1), in seconds")
        }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "periscope-controller")
        let environment = ProcessInfo.processInfo.environment
        let clientConfiguration: KubeClientConfiguration
        var configuration: ControllerConfiguration
        do {
            if let kubeconfig {
                clientConfiguration = try Kubeconfig.load(paths: [kubeconfig]).configuration(context: context)
            } else {
                clientConfiguration = try KubeClientConfiguration.load(environment: environment)
            }
            configuration = try ControllerConfiguration(environment: environment, namespace: clientConfiguration.namespace)
        } catch {
            System.writeStandardError("periscope-controller: not starting: \(error)\n")
            throw ExitCode(2)
        }
        if let identity { configuration.identity = identity }
        if let leaseName { configuration.leaseName = leaseName }
        if let leaseNamespace { configuration.leaseNamespace = leaseNamespace }
        if let healthAddress { configuration.healthAddress = healthAddress }
        if let healthPort { configuration.healthPort = healthPort }
        configuration.leaseDuration = .milliseconds(Int(leaseDuration * 1000))
        configuration.renewDeadline = .milliseconds(Int(renewDeadline * 1000))
        configuration.retryPeriod = .milliseconds(Int(retryPeriod * 1000))

        var client = clientConfiguration
        client.userAgent = "periscope-controller/\(configuration.identity)"
        let controller = InstrumentationController(
            client: KubeClient(configuration: client, logger: logger), configuration: configuration, logger: logger)
        let health: HealthServer
        do {
            health = try HealthServer.health(
                address: configuration.healthAddress, port: configuration.healthPort, logger: logger,
                handler: { controller.respond(to: $0) })
        } catch {
            System.writeStandardError("periscope-controller: not starting: \(error)\n")
            throw ExitCode(2)
        }
        // Listed in start order; shut down in reverse: the controller (which releases the lease)
        // before the health endpoint.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: health), .init(service: controller)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("controller.failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
