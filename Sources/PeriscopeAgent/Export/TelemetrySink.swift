import PeriscopeCore

/// Feeds the `/metrics` recorder with every traced span and the exports with the spans of their
/// policies (every traced one for their metrics, the sampled ones to send). Spans are gathered
/// per capture batch and handed over in `flush()`, so the capture thread takes each lock once
/// per batch and never waits on the network.
public final class TelemetrySink: SpanSink {
    private let recorder: SpanMetricsRecorder?
    private let router: ExportRouter
    // Only the capture thread touches what follows: no run-time exclusivity checks.
    @exclusivity(unchecked) private var observed: [Span] = []
    /// The sampled spans, once they are no longer the first `sampledObserved` of `observed`.
    @exclusivity(unchecked) private var sampled: [Span] = []
    /// While every sampled span is one of the first of `observed` (each emitted right after it
    /// was observed, none observed without being emitted in between: the usual case, a
    /// sampler that keeps all), how many of them: they are not copied a second time.
    @exclusivity(unchecked) private var sampledObserved = 0
    /// Whether the sampled spans are in `sampled` rather than counted by `sampledObserved`.
    @exclusivity(unchecked) private var sampledApart = false
    /// Whether anything takes spans, as of the last flush: when nothing does, none are gathered.
    @exclusivity(unchecked) private var active: Bool

    public init(recorder: SpanMetricsRecorder?, router: ExportRouter) {
        self.recorder = recorder
        self.router = router
        active = recorder != nil || router.isExporting
    }

    public func observe(_ span: Span) {
        guard active else { return }
        // The last span observed was not emitted: the sampled ones are no longer all observed ones.
        if !sampledApart, sampledObserved < observed.count { setSampledApart() }
        observed.append(span)
    }

    public func emit(_ span: Span) {
        guard active else { return }
        // The span just observed: counted where it lies.
        if !sampledApart, sampledObserved == observed.count - 1 {
            sampledObserved += 1
            return
        }
        if !sampledApart { setSampledApart() }
        sampled.append(span)
    }

    /// Copies the sampled spans counted by `sampledObserved` into `sampled`, where the next go.
    private func setSampledApart() {
        sampled.append(contentsOf: observed[..<sampledObserved])
        sampledApart = true
    }

    public func flush() {
        defer { active = recorder != nil || router.isExporting }
        if !observed.isEmpty {
            recorder?.record(observed)
            router.record(observed: observed)
        }
        if !sampledApart, sampledObserved == observed.count, sampledObserved > 0 {
            router.route(sampled: observed)
        } else {
            if !sampledApart { setSampledApart() }
            if !sampled.isEmpty { router.route(sampled: sampled) }
        }
        observed.removeAll(keepingCapacity: true)
        sampled.removeAll(keepingCapacity: true)
        sampledObserved = 0
        sampledApart = false
    }
}
