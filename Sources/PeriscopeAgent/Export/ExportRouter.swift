import Logging
import PeriscopeCore
import ServiceLifecycle
import Synchronization

/// The OTLP exports of the agent, following the policies in force: each span and metric goes
/// to the exports `ExportPlan` names for its policy. When a policy's endpoint changes, what its
/// old export had queued is still sent there (the export drains and closes) while new spans go
/// to the new one; nothing queued is dropped by the switch. Exports open and close without
/// restarting anything.
///
/// Each export counts the RED metrics of the spans routed to it, so a receiver gets the metrics
/// of exactly the processes whose spans it gets. A span's resource (its policy's
/// `resourceAttributes` among it) is resolved when its batch is sent.
public final class ExportRouter: Service, Sendable {
    private struct Export: Sendable {
        let exporter: OTLPExporter
        let recorder: SpanMetricsRecorder
        /// Whether the export also receives the agent's health metrics.
        let health: Flag
    }

    private final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set(_ set: Bool) { value.store(set, ordering: .relaxed) }
    }

    private struct State {
        var plan: ExportPlan
        /// Open exports by `ExportPlan.key`, and the same in `plan.exports` order.
        var open: [String: Export] = [:]
        var routed: [Export?] = []
        /// Every export ever opened, for the counters.
        var all: [OTLPExporter] = []
    }

    private let configuration: ExportConfiguration
    private let policyExportsGetAgentHealth: Bool
    private let resources: ProcessResources
    private let agentMetrics: @Sendable (ExportStatistics?, UInt64) -> [Metric]
    private let startTimeUnixNano: UInt64
    private let logger: Logger
    private let state: Mutex<State>
    private let starts: AsyncStream<OTLPExporter>
    private let startContinuation: AsyncStream<OTLPExporter>.Continuation

    /// - Parameters:
    ///   - policyExportsGetAgentHealth: a standalone agent's policy exports also receive its health metrics.
    ///   - agentMetrics: the agent's health metrics, given an export's counters and how many of
    ///     its spans overflowed the series limit.
    public init(
        configuration: ExportConfiguration, policyExportsGetAgentHealth: Bool, resources: ProcessResources,
        startTimeUnixNano: UInt64, logger: Logger, agentMetrics: @escaping @Sendable (ExportStatistics?, UInt64) -> [Metric]
    ) {
        self.configuration = configuration
        self.policyExportsGetAgentHealth = policyExportsGetAgentHealth
        self.resources = resources
        self.startTimeUnixNano = startTimeUnixNano
        self.logger = logger
        self.agentMetrics = agentMetrics
        state = Mutex(State(plan: ExportPlan(policies: PolicySet([]), configuration: configuration, policyExportsGetAgentHealth: false)))
        (starts, startContinuation) = AsyncStream.makeStream(of: OTLPExporter.self)
    }

    /// Whether any export is open: when none is, spans need not be gathered for it.
    public var isExporting: Bool { state.withLock { !$0.open.isEmpty } }

    /// The exports open now, in the order of the plan's exports.
    public var exporters: [OTLPExporter] { state.withLock { $0.routed.compactMap { $0?.exporter } } }

    /// Puts `policies`' exports and resource attributes in force.
    public func apply(_ policies: PolicySet) {
        let plan = ExportPlan(policies: policies, configuration: configuration, policyExportsGetAgentHealth: policyExportsGetAgentHealth)
        resources.setPolicyAttributes(plan.resourceAttributes)
        let (opened, closed) = state.withLock { state -> ([OTLPExporter], [OTLPExporter]) in
            guard state.plan != plan || state.routed.count != plan.exports.count else { return ([], []) }
            var opened: [OTLPExporter] = []
            var keep: [String: Export] = [:]
            var routed: [Export?] = []
            for (index, otlp) in plan.exports.enumerated() {
                let key = ExportPlan.key(of: otlp)
                let export = state.open[key] ?? makeExport(otlp)
                if state.open[key] == nil {
                    opened.append(export.exporter)
                    state.all.append(export.exporter)
                }
                export.health.set(plan.agentHealth.contains(index))
                keep[key] = export
                routed.append(export)
            }
            let closed = state.open.filter { keep[$0.key] == nil }.map(\.value.exporter)
            state.open = keep
            state.routed = routed
            state.plan = plan
            return (opened, closed)
        }
        for exporter in opened {
            logger.info("export.opened", metadata: [
                "traces.url": "\(exporter.configuration.tracesEndpoint)", "metrics.url": "\(exporter.configuration.metricsEndpoint)",
            ])
            startContinuation.yield(exporter)
        }
        for exporter in closed {
            logger.info("export.closing", metadata: ["traces.url": "\(exporter.configuration.tracesEndpoint)"])
            exporter.requestStop()
        }
    }

    /// Queues sampled spans on the exports of their policies; never blocks on the network.
    public func route(sampled spans: [Span]) {
        forEachExport(of: spans) { export, spans in export.exporter.enqueue(spans) }
    }

    /// Counts spans (sampled or not) in the RED metrics of the exports of their policies.
    public func record(observed spans: [Span]) {
        forEachExport(of: spans) { export, spans in export.recorder.record(spans) }
    }

    private func forEachExport(of spans: [Span], _ body: (Export, [Span]) -> Void) {
        guard !spans.isEmpty else { return }
        let (plan, routed) = state.withLock { ($0.plan, $0.routed) }
        guard !routed.isEmpty else { return }
        // One export receiving everything: the list handed on as it is, no span copied.
        if let sole = plan.soleExport, routed.indices.contains(sole) {
            if let export = routed[sole] { body(export, spans) }
            return
        }
        var batches = [[Span]](repeating: [], count: routed.count)
        for span in spans {
            for index in plan.destinations(for: span.policy) { batches[index].append(span) }
        }
        for (index, batch) in batches.enumerated() where !batch.isEmpty {
            if let export = routed[index] { body(export, batch) }
        }
    }

    /// The counters of every export opened since start, added up.
    public var statistics: ExportStatistics? {
        let all = state.withLock { $0.all }
        guard !all.isEmpty else { return nil }
        return all.map(\.currentStatistics).reduce(ExportStatistics()) { $0 + $1 }
    }

    /// Runs the exports as they open, until graceful shutdown, when each sends what it has
    /// queued (within its shutdown timeout) and metrics once more.
    public func run() async throws {
        let starts = self.starts
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await exporter in starts {
                    group.addTask { try? await exporter.run() }
                }
            }
        } onGracefulShutdown: {
            self.startContinuation.finish()
        }
    }

    private func makeExport(_ otlp: ExportConfiguration.OTLP) -> Export {
        let recorder = SpanMetricsRecorder(startTimeUnixNano: startTimeUnixNano)
        let health = Flag()
        let agentMetrics = self.agentMetrics
        let exporter = OTLPExporter(configuration: otlp, resources: resources, logger: logger) { statistics in
            recorder.metrics() + (health.isSet ? agentMetrics(statistics, recorder.overflowedSpans) : [])
        }
        return Export(exporter: exporter, recorder: recorder, health: health)
    }
}
