import FoundationEssentials
import Logging
import PeriscopeCore
import ServiceLifecycle

/// Everything that leaves the agent besides printed spans, wired together: the OTLP exports
/// (the agent's own and each policy's, see `ExportRouter`), the Prometheus endpoint with the
/// RED metrics of every traced span, and the agent's health metrics in both. Follows the
/// policies in force through `apply(_:)`.
public final class Telemetry: Sendable {
    public let resources: ProcessResources
    /// RED metrics of every traced span, for `/metrics`; nil without a metrics port.
    public let recorder: SpanMetricsRecorder?
    public let router: ExportRouter
    public let prometheus: PrometheusServer?

    /// Opens the metrics port (so a port in use fails here, at start).
    /// - Parameters:
    ///   - policyExportsGetAgentHealth: true for a standalone agent, whose policy file is its
    ///     operator's: policy exports also receive the agent's health metrics. In a cluster,
    ///     a policy's export receives its own pods' telemetry only.
    ///   - attributes: resource attributes of the agent's own resource.
    public init(
        configuration: ExportConfiguration, policyExportsGetAgentHealth: Bool, attributes: [String: String] = [:],
        control: AgentControl, logger: Logger
    ) throws(ExportError) {
        let resources = ProcessResources(extra: attributes)
        let start = UInt64(Date().timeIntervalSince1970 * 1e9)
        let recorder = configuration.prometheus == nil ? nil : SpanMetricsRecorder(startTimeUnixNano: start)
        let router = ExportRouter(
            configuration: configuration, policyExportsGetAgentHealth: policyExportsGetAgentHealth, resources: resources,
            startTimeUnixNano: start, logger: logger
        ) { statistics, overflowed in
            AgentHealthMetrics.metrics(agent: control.metrics, export: statistics, overflowedSpans: overflowed, startTimeUnixNano: start)
        }
        self.resources = resources
        self.recorder = recorder
        self.router = router
        if let endpoint = configuration.prometheus {
            prometheus = try PrometheusServer.prometheus(configuration: endpoint, logger: logger) {
                let metrics = (recorder?.metrics() ?? []) + AgentHealthMetrics.metrics(
                    agent: control.metrics, export: router.statistics, overflowedSpans: recorder?.overflowedSpans ?? 0,
                    startTimeUnixNano: start)
                return PrometheusTextFormatter.format(metrics) { resources.serviceName(for: $0) }
            }
        } else {
            prometheus = nil
        }
    }

    /// Puts the exports and resource attributes of `policies` in force.
    public func apply(_ policies: PolicySet) {
        router.apply(policies)
    }

    /// The sink feeding the metrics and the exports.
    public func makeSink() -> SpanSink {
        TelemetrySink(recorder: recorder, router: router)
    }

    /// To run before the agent, so that they stop after it and get its last spans.
    public var services: [any Service] {
        var services: [any Service] = [router]
        if let prometheus { services.append(prometheus) }
        return services
    }

    /// The exports' counters as `periscope_<name> <value>` lines; nil when nothing was exported.
    public var report: String? { router.statistics?.report }
}
