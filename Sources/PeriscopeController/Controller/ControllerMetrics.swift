import Synchronization

/// The controller's Prometheus metrics: reconciles, their duration, errors, writes, queue depth,
/// watch restarts and leadership. Thread-safe; `render()` gives the text exposition format.
public final class ControllerMetrics: Sendable {
    /// Upper bounds (seconds) of the reconcile duration histogram.
    public static let durationBounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Values {
        var reconciles = 0
        var reconcileErrors = 0
        var durationBuckets = [Int](repeating: 0, count: ControllerMetrics.durationBounds.count)
        var durationCount = 0
        var durationSum = 0.0
        var writes: [String: Int] = [:]
        var queueDepth = 0
        var leader = false
        var consistencyChecks = 0
        var consistencyDifferences = 0
    }

    private let values = Mutex(Values())

    public init() {}

    public func recordReconcile(seconds: Double, failed: Bool) {
        values.withLock { values in
            values.reconciles += 1
            if failed { values.reconcileErrors += 1 }
            values.durationCount += 1
            values.durationSum += seconds
            for (index, bound) in Self.durationBounds.enumerated() where seconds <= bound { values.durationBuckets[index] += 1 }
        }
    }

    /// One API write of `kind` (`nodeinstrumentation_apply`, `nodeinstrumentation_delete`, `policy_status`).
    public func recordWrite(_ kind: String) {
        values.withLock { $0.writes[kind, default: 0] += 1 }
    }

    /// One comparison of the incremental resolution with a full one, and the differences it found.
    public func recordConsistencyCheck(differences: Int) {
        values.withLock {
            $0.consistencyChecks += 1
            $0.consistencyDifferences += differences
        }
    }

    public var consistencyDifferences: Int { values.withLock { $0.consistencyDifferences } }

    public func setQueueDepth(_ depth: Int) { values.withLock { $0.queueDepth = depth } }
    public func setLeader(_ leader: Bool) { values.withLock { $0.leader = leader } }

    public var reconciles: Int { values.withLock { $0.reconciles } }
    public var writes: Int { values.withLock { $0.writes.values.reduce(0, +) } }

    /// The exposition text; `watchRestarts` per resource comes from the informers.
    public func render(watchRestarts: [String: Int]) -> String {
        let values = values.withLock { $0 }
        var text = """
            # HELP periscope_controller_reconciles_total Reconcile passes run.
            # TYPE periscope_controller_reconciles_total counter
            periscope_controller_reconciles_total \(values.reconciles)
            # HELP periscope_controller_reconcile_errors_total Reconcile passes with at least one failed write.
            # TYPE periscope_controller_reconcile_errors_total counter
            periscope_controller_reconcile_errors_total \(values.reconcileErrors)
            # HELP periscope_controller_reconcile_duration_seconds Time to resolve and carry out one reconcile pass.
            # TYPE periscope_controller_reconcile_duration_seconds histogram

            """
        for (index, bound) in Self.durationBounds.enumerated() {
            text += "periscope_controller_reconcile_duration_seconds_bucket{le=\"\(bound)\"} \(values.durationBuckets[index])\n"
        }
        text += "periscope_controller_reconcile_duration_seconds_bucket{le=\"+Inf\"} \(values.durationCount)\n"
        text += "periscope_controller_reconcile_duration_seconds_sum \(values.durationSum)\n"
        text += "periscope_controller_reconcile_duration_seconds_count \(values.durationCount)\n"
        text += "# HELP periscope_controller_writes_total API writes by kind.\n# TYPE periscope_controller_writes_total counter\n"
        for kind in ["nodeinstrumentation_apply", "nodeinstrumentation_delete", "policy_status"] {
            text += "periscope_controller_writes_total{kind=\"\(kind)\"} \(values.writes[kind] ?? 0)\n"
        }
        text += "# HELP periscope_controller_consistency_checks_total Full resolutions compared with the incremental one.\n"
        text += "# TYPE periscope_controller_consistency_checks_total counter\n"
        text += "periscope_controller_consistency_checks_total \(values.consistencyChecks)\n"
        text += "# HELP periscope_controller_consistency_differences_total Differences those comparisons found (each one a bug, logged).\n"
        text += "# TYPE periscope_controller_consistency_differences_total counter\n"
        text += "periscope_controller_consistency_differences_total \(values.consistencyDifferences)\n"
        text += "# HELP periscope_controller_queue_depth Cache events not yet reconciled.\n# TYPE periscope_controller_queue_depth gauge\n"
        text += "periscope_controller_queue_depth \(values.queueDepth)\n"
        text += "# HELP periscope_controller_watch_restarts_total Watches restarted after the first, per resource.\n"
        text += "# TYPE periscope_controller_watch_restarts_total counter\n"
        for (resource, count) in watchRestarts.sorted(by: { $0.key < $1.key }) {
            text += "periscope_controller_watch_restarts_total{resource=\"\(resource)\"} \(count)\n"
        }
        text += "# HELP periscope_controller_leader Whether this replica holds the lease.\n# TYPE periscope_controller_leader gauge\n"
        text += "periscope_controller_leader \(values.leader ? 1 : 0)\n"
        return text
    }
}
