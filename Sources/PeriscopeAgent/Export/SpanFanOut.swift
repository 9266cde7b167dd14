import PeriscopeCore

/// Hands every span to several sinks in order (printer, metrics, exporter).
///
/// The first sink and a fan-out to the others are constants of this object: a sink is called
/// where it is held, without the retain and release that calling one taken out of an array
/// costs, twice per sink and span.
public final class SpanFanOut: SpanSink {
    private let first: (any SpanSink)?
    private let rest: SpanFanOut?

    public init(_ sinks: [SpanSink]) {
        first = sinks.first
        rest = sinks.count > 1 ? SpanFanOut(Array(sinks.dropFirst())) : nil
    }

    public func observe(_ span: Span) {
        first?.observe(span)
        rest?.observe(span)
    }

    public func emit(_ span: Span) {
        first?.emit(span)
        rest?.emit(span)
    }

    public func flush() {
        first?.flush()
        rest?.flush()
    }

    public func finish() {
        first?.finish()
        rest?.finish()
    }
}
