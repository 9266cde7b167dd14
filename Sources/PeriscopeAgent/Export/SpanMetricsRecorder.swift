import PeriscopeCore
import Synchronization

/// `SpanMetrics` shared between the capture thread, which records, and the exporter
/// and `/metrics` threads, which read.
public final class SpanMetricsRecorder: Sendable {
    private let state: Mutex<SpanMetrics>

    public init(startTimeUnixNano: UInt64, seriesLimit: Int = SpanMetrics.defaultSeriesLimit) {
        state = Mutex(SpanMetrics(startTimeUnixNano: startTimeUnixNano, seriesLimit: seriesLimit))
    }

    public func record(_ spans: [Span]) {
        guard !spans.isEmpty else { return }
        state.withLock { metrics in
            for span in spans { metrics.record(span) }
        }
    }

    public func metrics() -> [Metric] { state.withLock { $0.metrics() } }

    public var overflowedSpans: UInt64 { state.withLock { $0.overflowedSpans } }
}
