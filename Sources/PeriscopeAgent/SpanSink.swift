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
    /// Called after each batch of events; buffered sinks write out here what is due.
    func flush()
    /// Called once, when capture ends: buffered sinks write out everything. Default: `flush()`.
    func finish()
}

extension SpanSink {
    public func observe(_ span: Span) {}
    public func finish() { flush() }
}

/// Prints spans to a file descriptor (standard output by default), gathered into writes of
/// `writeSize` bytes: a busy agent's capture batches are small, and the kernel fills a file's
/// page cache for far less per byte in large writes that start and end on `writeSize`
/// boundaries of the file (one large page-cache folio each, not a page at a time; about
/// 240 ns per KB instead of 450 for writes of 40–64 KB at any offset, on ext4). Spans wait at
/// most `maximumDelayNanos` for others to join them, then are written whatever their size.
public final class SpanPrinter: SpanSink {
    /// Bytes gathered before they are written whatever the delay; the boundaries of a regular
    /// file that full writes end on.
    public static let writeSize = 64 * 1024
    /// The longest spans wait in the buffer once a capture batch asked for them to be written.
    public static let maximumDelayNanos: UInt64 = 50_000_000

    private let format: AgentConfiguration.OutputFormat
    private let fd: Int32
    private let podOf: ((Int32) -> PodDecoration?)?
    private let delayNanos: UInt64
    /// Only the capture thread touches the printer, so accesses need no run-time check.
    @exclusivity(unchecked) private var buffer = OutputBuffer(capacity: writeSize + 16 * 1024)
    /// When `flush()` first found the spans now in the buffer (monotonic); 0 when it has not.
    private var waitingSince: UInt64 = 0
    /// Where the next write lands in a regular file (as far as the printer knows: another
    /// writer of the file only makes the writes less aligned); nil for a pipe or terminal.
    private var fileOffset: Int?
    /// A text line, before it joins `buffer`.
    private var line: [UInt8] = []

    /// - Parameters:
    ///   - podOf: in a cluster, the pod a process runs in: the text line names it, the JSON
    ///     object carries its resource attributes.
    ///   - delayNanos: how long spans may wait for others before they are written; 0 writes
    ///     them at every `flush()`.
    public init(
        format: AgentConfiguration.OutputFormat, fd: Int32 = STDOUT_FILENO, podOf: ((Int32) -> PodDecoration?)? = nil,
        delayNanos: UInt64 = SpanPrinter.maximumDelayNanos
    ) {
        self.format = format
        self.fd = fd
        self.podOf = podOf
        self.delayNanos = delayNanos
        var status = stat()
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG {
            let offset = lseek(fd, 0, SEEK_CUR)
            fileOffset = offset >= 0 ? Int(offset) : nil
        }
    }

    deinit {
        writeOut()
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
        if buffer.count >= Self.writeSize { writeOut(toBoundary: true) }
    }

    /// Writes the buffer once its spans have waited `delayNanos` since the first call that
    /// found them.
    public func flush() {
        guard !buffer.isEmpty else { return }
        if delayNanos > 0 {
            let now = MonotonicClock.now()
            if waitingSince == 0 { waitingSince = now }
            guard now &- waitingSince >= delayNanos else { return }
        }
        writeOut()
    }

    public func finish() {
        writeOut()
    }

    /// Writes the buffer; `toBoundary`, to a file: only up to the last `writeSize` boundary of
    /// the file it reaches, the rest kept for the next write.
    private func writeOut(toBoundary: Bool = false) {
        waitingSince = 0
        guard !buffer.isEmpty else { return }
        var count = buffer.count
        if toBoundary, let fileOffset {
            count -= (fileOffset + count) % Self.writeSize
            guard count > 0 else { return }
        }
        // Written from the buffer itself, without a copy; a descriptor that refuses loses
        // what it holds.
        let written = buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < count {
                let written = System.retryingInterrupted { write(fd, bytes.baseAddress! + offset, count - offset) }
                guard written > 0 else { break }
                offset += written
            }
            return offset
        }
        if let fileOffset { self.fileOffset = fileOffset + written }
        if count == buffer.count {
            buffer.removeAll()
        } else {
            buffer.removeFirst(count)
        }
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
