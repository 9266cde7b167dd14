import PeriscopeCore

/// Feeds the `/metrics` recorder with every traced span and the exports with the spans of their
/// policies (every traced one for their metrics, the sampled ones to send). Spans are gathered
/// per capture batch and handed over in `flush()`, so the capture thread takes each lock once
/// per batch and never waits on the network.
public final class TelemetrySink: SpanSink {
    private let recorder: SpanMetricsRecorder?
    private let router: ExportRouter
    private var observed: [Span] = []
    private var sampled: [Span] = []
    /// Whether anything takes spans, as of the last flush: when nothing does, none are gathered.
    private var active: Bool

    public init(recorder: SpanMetricsRecorder?, router: ExportRouter) {
        self.recorder = recorder
        self.router = router
        active = recorder != nil || router.isExporting
    }

    public func observe(_ span: Span) {
        if active { observed.append(span) }
    }

    public func emit(_ span: Span) {
        if active { sampled.append(span) }
    }

    public func flush() {
        defer { active = recorder != nil || router.isExporting }
        if !observed.isEmpty {
            recorder?.record(observed)
            router.record(observed: observed)
            observed.removeAll(keepingCapacity: true)
        }
        if !sampled.isEmpty {
            router.route(sampled: sampled)
            sampled.removeAll(keepingCapacity: true)
        }
    }
}
