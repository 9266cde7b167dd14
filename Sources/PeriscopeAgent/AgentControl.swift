import Synchronization

/// Requests to the capture thread and what it reports back; safe from any thread or
/// signal-handling queue.
public final class AgentControl: Sendable {
    private let stop = Atomic<Bool>(false)
    private let reload = Atomic<Bool>(false)
    private let report = Atomic<Bool>(false)
    private let ready = Atomic<Bool>(false)
    private let snapshot = Mutex(AgentMetrics())

    public init() {}

    /// Asks the capture thread to detach, flush and return.
    public func requestStop() { stop.store(true, ordering: .releasing) }
    /// Asks for the policy file to be re-read now (SIGHUP).
    public func requestReload() { reload.store(true, ordering: .releasing) }
    /// Asks for the self-metrics to be printed now (SIGUSR1).
    public func requestReport() { report.store(true, ordering: .releasing) }

    var stopRequested: Bool { stop.load(ordering: .acquiring) }
    func takeReloadRequest() -> Bool { reload.exchange(false, ordering: .acquiringAndReleasing) }
    func takeReportRequest() -> Bool { report.exchange(false, ordering: .acquiringAndReleasing) }

    /// True once the programs are attached and the first policy is applied.
    public var isReady: Bool { ready.load(ordering: .acquiring) }
    func markReady() { ready.store(true, ordering: .releasing) }

    /// The self-metrics as of the last loop iteration.
    public var metrics: AgentMetrics { snapshot.withLock { $0 } }
    func publish(_ metrics: AgentMetrics) { snapshot.withLock { $0 = metrics } }
}
