import FoundationEssentials
import Logging
import PeriscopeBPF
import PeriscopeCore
import PeriscopeSystem
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// The node agent as a service: loads and attaches the kernel programs, then runs the capture
/// loop on a dedicated thread (ring buffer polling blocks) until graceful shutdown, when
/// everything is detached and pending spans are flushed.
public final class Agent: Service, @unchecked Sendable {
    private let configuration: AgentConfiguration
    private let policies: PolicySet
    private let makeSink: @Sendable () -> SpanSink
    private let logger: Logger
    public let control: AgentControl

    /// - Parameters:
    ///   - policies: the policies in force at start (already validated); later ones arrive
    ///     through `control.submit` (from a `PolicyFileWatcher` or the Kubernetes mode).
    ///   - control: how others talk to the capture thread and read its metrics.
    ///   - makeSink: builds the span sink on the capture thread.
    public init(
        configuration: AgentConfiguration, policies: PolicySet,
        logger: Logger, control: AgentControl = AgentControl(), makeSink: @escaping @Sendable () -> SpanSink
    ) {
        self.control = control
        self.configuration = configuration
        self.policies = policies
        self.logger = logger
        self.makeSink = makeSink
    }

    public func run() async throws {
        let control = self.control
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await runCaptureThread()
            } onGracefulShutdown: {
                control.requestStop()
            }
        } onCancel: {
            control.requestStop()
        }
        logger.info("agent.stopped", metadata: control.metrics.metadata)
    }

    /// The TLS library probes, or nil (logged) where the kernel refuses them: capture goes on
    /// without plaintext of TLS connections.
    static func loadTLSProbes(sharing tracer: Tracer, propagation: Propagation?, logger: Logger) -> TLSProbes? {
        do {
            return try TLSProbes(sharing: tracer, propagation: propagation)
        } catch {
            logger.warning("tls.unavailable", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func runCaptureThread() async throws {
        let configuration = self.configuration
        let policies = self.policies
        let makeSink = self.makeSink
        let logger = self.logger
        let control = self.control
        try await DedicatedThread.run(name: "periscope-capture") {
            let scheduling = configuration.captureScheduling
            if !scheduling.ordinaryIsDefault {
                if let errno = scheduling.apply(idle: false) {
                    logger.warning("capture.scheduling.refused", metadata: [
                        "batch": "\(scheduling.batch)", "slice_ns": "\(scheduling.sliceNanoseconds)", "errno": "\(errno)",
                        "effect": "the capture thread is scheduled as any other thread",
                    ])
                } else {
                    logger.info("capture.scheduling", metadata: [
                        "batch": "\(scheduling.batch)", "slice_ns": "\(scheduling.sliceNanoseconds)",
                    ])
                }
            }
            if try Tracefs.ensureMounted() {
                logger.notice("tracefs.mounted", metadata: ["path": "\(Tracefs.path)"])
            }
            let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
            let cgroupPath = configuration.cgroupPath.map { Propagation.cgroup2Hierarchy(at: $0, mounts: mounts) }
                ?? Propagation.cgroup2MountPoint(mounts: mounts)
            var propagation: Propagation?
            var propagationError: (any Error)?
            // Attached ahead of the tracer: its reports precede the events they belong to.
            let (tracer, fallbackReason) = try Tracer.loadAndAttach(ringBufferBytes: configuration.ringBufferBytes) { tracer in
                propagation = nil
                guard let cgroupPath else {
                    propagationError = BPFError(.attachFailed, "no cgroup v2 hierarchy is mounted; mount the host's and pass --cgroup-path")
                    return
                }
                do throws(BPFError) {
                    propagation = try Propagation(tracer: tracer, cgroupPath: cgroupPath)
                    propagationError = nil
                } catch {
                    propagationError = error
                }
            }
            if let propagationError {
                logger.warning("propagation.unavailable", metadata: [
                    "error": "\(propagationError)", "effect": "trace context is not written into traffic",
                ])
            }
            if let fallbackReason {
                logger.notice("tracer.fallback", metadata: [
                    "variant": "\(tracer.variant.rawValue)", "reason": "\(fallbackReason)",
                ])
            }
            let tlsProbes = Self.loadTLSProbes(sharing: tracer, propagation: propagation, logger: logger)
            control.setKernelFeatures(
                tracer.kernelFeatures + (propagation == nil ? [] : ["sk_msg", "sock_ops"]) + (tlsProbes == nil ? [] : ["uprobe_multi"])
            )
            let loop = CaptureLoop(
                configuration: configuration, policies: policies, policyFile: nil,
                tracer: tracer, propagation: propagation, sink: makeSink(), control: control, logger: logger,
                selfPID: getpid(), tlsProbes: tlsProbes
            )
            try loop.run()
        }
    }
}
