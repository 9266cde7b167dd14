import PeriscopeCore
import PeriscopeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where finished spans go. Called from the capture thread only.
public protocol SpanSink: AnyObject {
    /// A span the policy traces, sampled or not; for metrics, which count every request.
    /// Comes before `emit` for sampled spans. Default: ignored.
    func observe(_ span: Span)
    /// A sampled span, to print or export.
    func emit(_ span: Span)
    /// Called after each batch of events; buffered sinks write out here.
    func flush()
}

extension SpanSink {
    public func observe(_ span: Span) {}
}

/// Prints spans to a file descriptor (standard output by default), buffered per batch.
public final class SpanPrinter: SpanSink {
    private let format: AgentConfiguration.OutputFormat
    private let fd: Int32
    private let podOf: ((Int32) -> PodDecoration?)?
    /// Only the capture thread touches the printer, so accesses need no run-time check.
    @exclusivity(unchecked) private var buffer = OutputBuffer(capacity: 80 * 1024)
    /// A text line, before it joins `buffer`.
    private var line: [UInt8] = []

    /// - Parameter podOf: in a cluster, the pod a process runs in: the text line names it, the
    ///   JSON object carries its resource attributes.
    public init(format: AgentConfiguration.OutputFormat, fd: Int32 = STDOUT_FILENO, podOf: ((Int32) -> PodDecoration?)? = nil) {
        self.format = format
        self.fd = fd
        self.podOf = podOf
    }

    /// The capture thread's alone, like `buffer`: no run-time exclusivity checks.
    @exclusivity(unchecked) private var text = SpanTextFormatter()
    @exclusivity(unchecked) private var json = SpanJSONFormatter()

    public func emit(_ span: Span) {
        let pod = podOf?(span.pid)
        switch format {
        case .text:
            text.write(span, into: &line, pod: pod?.qualifiedName)
            buffer.append(line)
            line.removeAll(keepingCapacity: true)
        case .json: json.write(span, into: &buffer, resource: pod?.attributes)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count > 64 * 1024 { flush() }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        // Written from the buffer itself, without a copy; a descriptor that refuses loses
        // the batch.
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = System.retryingInterrupted { write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
                guard written > 0 else { break }
                offset += written
            }
        }
        buffer.removeAll()
    }
}

/// Collects spans in memory; for tests and embedding.
public final class SpanCollector: SpanSink, Sendable {
    private let spans = Mutex<[Span]>([])

    public init() {}

    public func emit(_ span: Span) { spans.withLock { $0.append(span) } }
    public func flush() {}

    /// Everything collected so far.
    public var collected: [Span] { spans.withLock { $0 } }
}
