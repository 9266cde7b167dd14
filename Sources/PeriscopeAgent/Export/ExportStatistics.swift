import PeriscopeCore

/// What the exporter did with the spans and metrics handed to it.
public struct ExportStatistics: Sendable, Equatable {
    /// Spans accepted into the queue.
    public var spansQueued: UInt64 = 0
    /// Spans the receiver acknowledged.
    public var spansExported: UInt64 = 0
    /// Spans refused because the queue was full.
    public var spansDroppedQueueFull: UInt64 = 0
    /// Spans of batches that failed for good (rejected, or retried until `retryTimeout`).
    public var spansDroppedExportFailed: UInt64 = 0
    /// Spans still queued when the shutdown deadline passed.
    public var spansDroppedShutdown: UInt64 = 0
    /// Requests (traces and metrics) that did not succeed, retried or not.
    public var exportFailures: UInt64 = 0
    /// Trace and metrics requests that succeeded.
    public var requestsSucceeded: UInt64 = 0
    /// Bytes of request bodies sent, as on the wire (after compression).
    public var bytesSent: UInt64 = 0
    /// Spans waiting now.
    public var queueLength: Int = 0

    public init() {}

    /// Two exports' counters together.
    public static func + (a: ExportStatistics, b: ExportStatistics) -> ExportStatistics {
        var sum = a
        sum.spansQueued += b.spansQueued
        sum.spansExported += b.spansExported
        sum.spansDroppedQueueFull += b.spansDroppedQueueFull
        sum.spansDroppedExportFailed += b.spansDroppedExportFailed
        sum.spansDroppedShutdown += b.spansDroppedShutdown
        sum.exportFailures += b.exportFailures
        sum.requestsSucceeded += b.requestsSucceeded
        sum.bytesSent += b.bytesSent
        sum.queueLength += b.queueLength
        return sum
    }

    /// Every span not delivered, whatever the reason.
    public var spansDropped: UInt64 { spansDroppedQueueFull + spansDroppedExportFailed + spansDroppedShutdown }

    /// `periscope_<name> <value>` lines, as `AgentMetrics.report` prints them.
    public var report: String {
        [
            ("spans_queued", spansQueued), ("spans_exported", spansExported), ("spans_dropped", spansDropped),
            ("spans_dropped_queue_full", spansDroppedQueueFull),
            ("spans_dropped_export_failed", spansDroppedExportFailed),
            ("spans_dropped_shutdown", spansDroppedShutdown), ("export_failures", exportFailures),
            ("export_requests_succeeded", requestsSucceeded), ("export_bytes_sent", bytesSent),
        ].map { "periscope_\($0.0) \($0.1)" }.joined(separator: "\n")
    }
}
