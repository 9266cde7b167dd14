import Foundation
import Logging
import PeriscopeCore
import ServiceLifecycle

/// Everything that leaves the agent besides printed spans, wired together: RED metrics
/// from every traced span, the OTLP exporter, the Prometheus endpoint, and the agent's
/// health metrics in both.
public final class Telemetry: Sendable {
    public let resources: ProcessResources
    public let recorder: SpanMetricsRecorder?
    public let exporter: OTLPExporter?
    public let prometheus: PrometheusServer?

    /// Opens the metrics port (so a port in use fails here, at start).
    public init(configuration: ExportConfiguration, policy: Policy, control: AgentControl, logger: Logger) throws(ExportError) {
        let resources = ProcessResources(extra: policy.resourceAttributes)
        let start = UInt64(Date().timeIntervalSince1970 * 1e9)
        let recorder = configuration.otlp == nil && configuration.prometheus == nil
            ? nil : SpanMetricsRecorder(startTimeUnixNano: start)
        let metrics: @Sendable (ExportStatistics?) -> [Metric] = { statistics in
            (recorder?.metrics() ?? []) + AgentHealthMetrics.metrics(
                agent: control.metrics, export: statistics, overflowedSpans: recorder?.overflowedSpans ?? 0,
                startTimeUnixNano: start
            )
        }
        let exporter = configuration.otlp.map {
            OTLPExporter(configuration: $0, resources: resources, logger: logger, metricsSource: metrics)
        }
        self.resources = resources
        self.recorder = recorder
        self.exporter = exporter
        if let endpoint = configuration.prometheus {
            prometheus = try PrometheusServer.prometheus(configuration: endpoint, logger: logger) {
                PrometheusTextFormatter.format(metrics(exporter?.currentStatistics)) { resources.serviceName(for: $0) }
            }
        } else {
            prometheus = nil
        }
    }

    /// The sink feeding metrics and export; nil when neither is configured.
    public func makeSink() -> SpanSink? {
        guard recorder != nil || exporter != nil else { return nil }
        return TelemetrySink(recorder: recorder, exporter: exporter)
    }

    /// To run before the agent, so that they stop after it and get its last spans.
    public var services: [any Service] {
        var services: [any Service] = []
        if let exporter { services.append(exporter) }
        if let prometheus { services.append(prometheus) }
        return services
    }

    /// The exporter's counters as `periscope_<name> <value>` lines; nil without export.
    public var report: String? { exporter?.currentStatistics.report }
}
