import ArgumentParser
import Dispatch
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import PeriscopeSystem
import Logging
import PeriscopeAgent
import PeriscopeAgentKube
import PeriscopeCore
import PeriscopeKube
import ServiceLifecycle

@main
struct PeriscopeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope-agent",
        abstract: "Trace the HTTP/1, HTTP/2, gRPC, PostgreSQL, MySQL and Redis requests and the TCP connections of this host's processes with eBPF, TLS included, without changing them.",
        discussion: """
            Runs standalone from a policy file (the InstrumentationPolicy spec without its Kubernetes \
            selectors; several as YAML documents separated by ---, the first taking precedence: each \
            process follows the first policy that selects it; see docs/policy.md) and prints one \
            span per request or connection on standard output; logs go to standard error. Needs \
            root, or the capabilities the DaemonSet grants: CAP_BPF and CAP_PERFMON to trace \
            (CAP_SYS_ADMIN before Linux 5.8), CAP_NET_ADMIN to write trace context into traffic, \
            CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to look into other users' processes. Mounts \
            tracefs at /sys/kernel/tracing when it is missing (CAP_SYS_ADMIN).

            The policy file is watched: an edit takes effect within a second, without restarting. \
            An invalid edit is logged and the previous policy stays in force. An invalid file at \
            start is refused (exit code 2).

            Signals: SIGTERM/SIGINT detach everything and print the self-metrics; SIGHUP re-reads \
            the policy file now; SIGUSR1 prints the self-metrics.

            OpenTelemetry export over OTLP/HTTP (protobuf): the agent's own export, named by \
            OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and \
            OTEL_EXPORTER_OTLP_METRICS_ENDPOINT), gets every span and metric; a policy's \
            export.otlp.endpoint gets the spans and metrics of the processes following that policy \
            only, and follows edits of the policy. Every export uses OTEL_EXPORTER_OTLP_HEADERS, \
            OTEL_EXPORTER_OTLP_COMPRESSION (gzip), OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_BSP_MAX_QUEUE_SIZE, \
            OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_SCHEDULE_DELAY and OTEL_METRIC_EXPORT_INTERVAL. \
            --metrics-port serves every metric for Prometheus at /metrics. A malformed setting is \
            refused at start (exit code 2).

            Kubernetes mode (--node-name or NODE_NAME): instead of a policy file, the agent follows \
            the NodeInstrumentation named after its node, traces the processes of the containers it \
            lists (found through /proc/<pid>/cgroup), decorates spans and metrics with their pod's \
            attributes and reports on the object's status. It finds the API server through \
            --kubeconfig, else KUBECONFIG, else the pod's service account, else ~/.kube/config.

            Examples:
              periscope-agent --config policy.yaml --output json
              periscope-agent --node-name "$NODE_NAME" --output none --metrics-port 9464
            """
    )

    @Option(name: .long, help: ArgumentHelp("Policy file (YAML). Without it, and outside Kubernetes mode, every process on every port is traced.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Kubernetes mode: follow the NodeInstrumentation of this node (env NODE_NAME).", valueName: "name"))
    var nodeName: String?

    @Option(name: .long, help: ArgumentHelp("Kubernetes mode: kubeconfig to use instead of KUBECONFIG or the service account.", valueName: "file"))
    var kubeconfig: String?

    @Option(name: .long, help: "Span output: text (one line per span), json (one OTLP-shaped object per line), tree (each trace as an indented tree with per-hop duration, self and waiting time) or none (export only).")
    var output: SpanOutput = .text

    @Option(name: .long, help: ArgumentHelp("Milliseconds a request read before its traced caller's context arrived (events of two CPUs out of order) waits for it; spans of its trace wait as long at most (callers_missed counts those that waited in vain); 0 to 1000.", valueName: "ms"))
    var reorderWindow: Double = 20

    @Option(name: .long, help: ArgumentHelp("Serve Prometheus metrics at http://ADDRESS:PORT/metrics (env PERISCOPE_METRICS_PORT).", valueName: "port"))
    var metricsPort: Int?

    @Option(name: .long, help: ArgumentHelp("Address the metrics port listens on (env PERISCOPE_METRICS_ADDRESS; default 0.0.0.0).", valueName: "ipv4"))
    var metricsAddress: String?

    @Option(name: .long, help: ArgumentHelp("Kernel ring buffer size in bytes, a power of two of at least 4096. An event takes 112 bytes plus what it captured; once half the buffer waits unread, the kernel sheds new connections and requests.", valueName: "bytes"))
    var ringBufferBytes: Int = AgentConfiguration.defaultRingBufferBytes

    @Option(name: .long, help: ArgumentHelp("The host's cgroup v2 hierarchy, where the program that writes trace context into traced processes' traffic attaches (default: the first cgroup2 mount); given a hybrid host's cgroup root, its unified directory.", valueName: "path"))
    var cgroupPath: String?

    @Option(name: .long, help: ArgumentHelp("Seconds without traffic after which a connection whose process no longer holds its socket is ended (one whose end was not seen); a keep-alive connection still held stays one connection.", valueName: "seconds"))
    var idleTimeout: Double = 300

    @Flag(name: .long, inversion: .prefixedNo, help: "Run the capture thread under SCHED_IDLE, on CPU time no other thread wants, raised to an ordinary thread while it falls behind (events unread for 5 ms, 256 KiB unread (a quarter of a smaller ring buffer), or its loop not come round for 15 ms) until it has read what waited. Needs CAP_SYS_NICE: without it the thread stays ordinary.")
    var captureYield = false

    @Flag(name: .long, help: "Run the capture thread, while it is an ordinary thread, under SCHED_BATCH: it never preempts a traced service when it wakes.")
    var captureBatch = false

    @Option(name: .long, help: ArgumentHelp("The capture thread's time slice in microseconds while it is an ordinary thread (Linux 6.12+, 100 to 100000; default: the kernel's): shorter lets a traced service that wakes take its core back sooner.", valueName: "µs"))
    var captureSlice: Int?

    @Option(name: .long, help: "Least level of the log lines written to standard error.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        if config != nil, NodeAgentConfiguration.resolve(nodeName: nodeName, environment: ProcessInfo.processInfo.environment) != nil {
            throw ValidationError("--config and Kubernetes mode (--node-name or NODE_NAME) are exclusive")
        }
        guard reorderWindow >= 0, reorderWindow <= 1000 else {
            throw ValidationError("--reorder-window must be between 0 and 1000 milliseconds, not \(reorderWindow)")
        }
        if let captureSlice, !(100...100_000).contains(captureSlice) {
            throw ValidationError("--capture-slice must be between 100 and 100000 microseconds, not \(captureSlice)")
        }
        guard ringBufferBytes >= 4096, ringBufferBytes & (ringBufferBytes - 1) == 0 else {
            throw ValidationError("--ring-buffer-bytes must be a power of two of at least 4096, not \(ringBufferBytes)")
        }
    }

    func run() async throws {
        unblockSignals()
        ProcessMemory.limitArenas()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "periscope-agent")

        var policyFile: PolicyFile?
        let policies: PolicySet
        if let config {
            var file = PolicyFile(path: config)
            do {
                policies = try file.load()
            } catch {
                System.writeStandardError("periscope-agent: invalid policy, not starting: \(error)\n")
                throw ExitCode(2)
            }
            policyFile = file
        } else if NodeAgentConfiguration.resolve(nodeName: nodeName, environment: ProcessInfo.processInfo.environment) != nil {
            // Nothing is traced until this node's NodeInstrumentation says what.
            policies = PolicySet(Policy(pids: [NodePlan.noProcess]))
        } else {
            policies = PolicySet(Policy())
        }
        let kubernetes = NodeAgentConfiguration.resolve(nodeName: nodeName, environment: ProcessInfo.processInfo.environment)

        let exportConfiguration: ExportConfiguration
        do {
            exportConfiguration = try ExportConfiguration.resolve(
                environment: ProcessInfo.processInfo.environment, metricsPort: metricsPort, metricsAddress: metricsAddress
            )
        } catch {
            System.writeStandardError("periscope-agent: invalid export setting, not starting: \(error)\n")
            throw ExitCode(2)
        }
        let control = AgentControl()
        let telemetry: Telemetry
        do {
            // A standalone policy file is the operator's: its exports get the agent's health too.
            telemetry = try Telemetry(
                configuration: exportConfiguration, policyExportsGetAgentHealth: kubernetes == nil,
                attributes: kubernetes == nil ? policies.merged.resourceAttributes : [:], control: control, logger: logger)
        } catch {
            System.writeStandardError("periscope-agent: not starting: \(error)\n")
            throw ExitCode(1)
        }
        telemetry.apply(policies)

        let format = output.format
        let resources = telemetry.resources
        // In a cluster, printed spans name their pod.
        let podOf: (@Sendable (Int32) -> PodDecoration?)? = kubernetes.map { _ in { @Sendable pid in resources.decoration(of: pid) } }
        let agent = Agent(
            configuration: AgentConfiguration(
                policyPath: config, output: format ?? .text, ringBufferBytes: ringBufferBytes,
                idleConnectionTimeout: .milliseconds(Int64(max(idleTimeout, 0.001) * 1000)),
                traces: TraceLinker.Configuration(reorderWindowNanos: UInt64(reorderWindow * 1e6)),
                cgroupPath: cgroupPath,
                captureScheduling: CaptureScheduling(yields: captureYield, batch: captureBatch, sliceNanoseconds: UInt64(captureSlice ?? 0) * 1000)
            ),
            policies: policies, logger: logger, control: control,
            makeSink: {
                var sinks: [SpanSink] = []
                if let format { sinks.append(SpanPrinter(format: format, podOf: podOf)) }
                if output == .tree { sinks.append(TraceTreePrinter()) }
                sinks.append(telemetry.makeSink())
                return sinks.count == 1 ? sinks[0] : SpanFanOut(sinks)
            }
        )
        let watcher = policyFile.map { file in
            PolicyFileWatcher(file: file, interval: AgentConfiguration().policyCheckInterval, control: control, logger: logger) { policies in
                telemetry.apply(policies)
            }
        }
        var nodeAgent: NodeAgent?
        if let node = kubernetes {
            do {
                var kube = try kubeconfig.map { try Kubeconfig.load(paths: [$0]).configuration() }
                    ?? KubeClientConfiguration.load(environment: ProcessInfo.processInfo.environment)
                kube.userAgent = "periscope-agent/\(node.nodeName)"
                nodeAgent = NodeAgent(
                    configuration: node, client: KubeClient(configuration: kube, logger: logger), control: control,
                    telemetry: telemetry, logger: logger)
            } catch {
                System.writeStandardError("periscope-agent: no Kubernetes configuration, not starting: \(error)\n")
                throw ExitCode(2)
            }
        }
        let signals = SignalHandlers(control: agent.control) { watcher?.requestReload() }
        // Shut down in reverse: whatever feeds the agent policies, the agent (flushing its
        // last spans into the exports), then the metrics endpoint, then the exports.
        var services: [any Service] = telemetry.services + [agent]
        if let nodeAgent { services.append(nodeAgent) }
        if let watcher { services.append(watcher) }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            logger.critical("agent.failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        withExtendedLifetime(signals) {}
        System.writeStandardError((agent.control.metrics.report + "\n"))
        if let report = telemetry.report {
            System.writeStandardError((report + "\n"))
        }
    }

    /// A parent may start us with signals blocked (inherited masks survive exec); the
    /// shutdown and reload signals must reach us.
    private func unblockSignals() {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        // A reader of standard output going away (`| head`) or a peer closing a socket
        // mid-write is an error to handle, not a reason to die without flushing exports.
        signal(SIGPIPE, SIG_IGN)
    }
}

/// SIGHUP → reload the policy file; SIGUSR1 → print the self-metrics.
final class SignalHandlers {
    private let sources: [DispatchSourceSignal]

    init(control: AgentControl, reload: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "periscope-agent.signals")
        let actions: [(Int32, @Sendable () -> Void)] = [(SIGHUP, reload), (SIGUSR1, control.requestReport)]
        sources = actions.map { signalNumber, action in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { action() }
            source.resume()
            return source
        }
    }
}

/// `--output`: a printed format, or none.
enum SpanOutput: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
    case tree
    case none

    var format: AgentConfiguration.OutputFormat? {
        switch self {
        case .text: .text
        case .json: .json
        case .tree, .none: nil
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
