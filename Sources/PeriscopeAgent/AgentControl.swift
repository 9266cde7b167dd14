import PeriscopeCore
import Synchronization

/// Requests to the capture thread and what it reports back; safe from any thread or
/// signal-handling queue.
public final class AgentControl: Sendable {
    private let stop = Atomic<Bool>(false)
    private let reload = Atomic<Bool>(false)
    private let report = Atomic<Bool>(false)
    private let ready = Atomic<Bool>(false)
    private let snapshot = Mutex(AgentMetrics())
    private let submitted = Mutex<(revision: Int, policies: PolicySet)?>(nil)
    private let appliedRevision = Atomic<Int>(0)
    private let features = Mutex<[String]>([])
    private let reloadFailures = Atomic<UInt64>(0)
    private let tls = Mutex(TLSProbeStatus())

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

    /// Hands the capture thread policies to put in force in place of the current ones (as a
    /// policy file edit would); a later submission replaces one not yet taken. `revision`
    /// (increasing) is reported back through `appliedPolicyRevision` once they are in force.
    public func submit(policies: PolicySet, revision: Int) { submitted.withLock { $0 = (revision, policies) } }
    /// The revision of the last submitted policy the capture thread has put in force (0: none).
    public var appliedPolicyRevision: Int { appliedRevision.load(ordering: .acquiring) }
    func takeSubmittedPolicies() -> (revision: Int, policies: PolicySet)? { submitted.withLock { value in defer { value = nil }; return value } }
    func markApplied(revision: Int) { appliedRevision.store(revision, ordering: .releasing) }

    /// Kernel features the tracer found and uses, once attached (e.g. `btf`, `ringbuf`, `raw_tracepoint`).
    public var kernelFeatures: [String] { features.withLock { $0 } }
    func setKernelFeatures(_ list: [String]) { features.withLock { $0 = list } }

    /// Which TLS libraries are probed in how many processes, and why traced processes could not be.
    public var tlsStatus: TLSProbeStatus { tls.withLock { $0 } }
    func setTLSStatus(_ status: TLSProbeStatus) { tls.withLock { $0 = status } }

    /// The self-metrics as of the last loop iteration.
    public var metrics: AgentMetrics {
        var metrics = snapshot.withLock { $0 }
        metrics.policyReloadFailures += reloadFailures.load(ordering: .relaxed)
        return metrics
    }

    /// A policy edit that could not be put in force (the previous policies stay).
    public func recordPolicyReloadFailure() { reloadFailures.add(1, ordering: .relaxed) }
    func publish(_ metrics: AgentMetrics) { snapshot.withLock { $0 = metrics } }
}
