import PeriscopeCore

/// Feeds the metrics recorder with every traced span and the OTLP exporter with the
/// sampled ones. Spans are gathered per capture batch and handed over in `flush()`, so
/// the capture thread takes each lock once per batch and never waits on the network.
public final class TelemetrySink: SpanSink {
    private let recorder: SpanMetricsRecorder?
    private let exporter: OTLPExporter?
    private var observed: [Span] = []
    private var sampled: [Span] = []

    public init(recorder: SpanMetricsRecorder?, exporter: OTLPExporter?) {
        self.recorder = recorder
        self.exporter = exporter
    }

    public func observe(_ span: Span) {
        if recorder != nil { observed.append(span) }
    }

    public func emit(_ span: Span) {
        if exporter != nil { sampled.append(span) }
    }

    public func flush() {
        if !observed.isEmpty {
            recorder?.record(observed)
            observed.removeAll(keepingCapacity: true)
        }
        if !sampled.isEmpty {
            exporter?.enqueue(sampled)
            sampled.removeAll(keepingCapacity: true)
        }
    }
}
