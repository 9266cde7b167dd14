import PeriscopeCore
import PeriscopeSystem
#if canImport(Glibc)
import Glibc
#endif

/// Prints each trace as an indented tree (`--output tree`). Spans leave the tracker one by
/// one as they end, children before their parents, so a trace's spans are gathered until
/// its local root (the span with no parent on this node) ends, then printed together.
/// Trees whose root never ends are printed as they are after `holdNanos`.
public final class TraceTreePrinter: SpanSink {
    private let fd: Int32
    private let formatter = TraceTreeFormatter()
    private let holdNanos: UInt64
    private var gathering: [TraceID: (since: UInt64, spans: [Span])] = [:]
    private var ready: [[Span]] = []

    public init(fd: Int32 = STDOUT_FILENO, holdNanos: UInt64 = 10_000_000_000) {
        self.fd = fd
        self.holdNanos = holdNanos
    }

    public func emit(_ span: Span) {
        var entry = gathering.removeValue(forKey: span.traceID) ?? (MonotonicClock.now(), [])
        entry.spans.append(span)
        if span.parentIsLocal {
            gathering[span.traceID] = entry
        } else {
            ready.append(entry.spans)
        }
    }

    public func flush() {
        let now = MonotonicClock.now()
        for (traceID, entry) in gathering where now >= entry.since &+ holdNanos {
            ready.append(entry.spans)
            gathering[traceID] = nil
        }
        guard !ready.isEmpty else { return }
        var text = ""
        for spans in ready { text += formatter.format(spans) + "\n\n" }
        ready.removeAll(keepingCapacity: true)
        System.writeAll(fd, text.utf8)
    }
}
