import PeriscopeCore

/// Hands every span to several sinks in order (printer, metrics, exporter).
public final class SpanFanOut: SpanSink {
    private let sinks: [SpanSink]

    public init(_ sinks: [SpanSink]) {
        self.sinks = sinks
    }

    public func observe(_ span: Span) {
        for sink in sinks { sink.observe(span) }
    }

    public func emit(_ span: Span) {
        for sink in sinks { sink.emit(span) }
    }

    public func flush() {
        for sink in sinks { sink.flush() }
    }
}
