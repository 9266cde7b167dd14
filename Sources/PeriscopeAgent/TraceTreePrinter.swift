import PeriscopeCore
#if canImport(Glibc)
import Glibc
#endif

/// Prints each trace as an indented tree (`--output tree`). The capture loop hands over a
/// trace's spans together, before the flush that ends its batch, so the spans emitted
/// between two flushes are grouped by trace id and printed one tree per trace.
public final class TraceTreePrinter: SpanSink {
    private let fd: Int32
    private let formatter = TraceTreeFormatter()
    private var pending: [TraceID: [Span]] = [:]
    private var order: [TraceID] = []

    public init(fd: Int32 = STDOUT_FILENO) {
        self.fd = fd
    }

    public func emit(_ span: Span) {
        if pending[span.traceID] == nil { order.append(span.traceID) }
        pending[span.traceID, default: []].append(span)
    }

    public func flush() {
        guard !order.isEmpty else { return }
        var text = ""
        for traceID in order {
            text += formatter.format(pending[traceID] ?? []) + "\n\n"
        }
        pending.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { break }
            offset += written
        }
    }
}
