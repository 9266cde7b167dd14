/// Sampled spans waiting to be exported, encoded when they are queued: each span is kept as
/// the bytes an OTLP request carries it as (a `ScopeSpans.spans` field), one after another in
/// one buffer, with the process it came from once per run of spans of one process. Spans are
/// not copied or held: they may be released as soon as they are queued. What waits is taken
/// whole, as bytes, by exchanging buffers with the taker (`takeBatch(into:)`), which makes
/// requests of at most `batchSize` spans from it (`SpanExportBatch.encodeRequest`) by writing
/// the resources around the spans' bytes.
///
/// A batch is due when `batchSize` spans wait, or when the oldest has waited
/// `maximumDelayNanos`. Spans beyond `capacity` (those taken and not yet made into a
/// request included) are refused and counted, never blocking the producer.
///
/// Sendable though it holds pointers: it owns its storage alone (it cannot be copied), so it
/// moves between threads whole, as an exporter's lock hands it on.
public struct SpanExportQueue: ~Copyable, @unchecked Sendable {
    public let capacity: Int
    public let batchSize: Int
    public let maximumDelayNanos: UInt64
    /// The queued spans' bytes, each a `ScopeSpans.spans` field; its connection blocks kept
    /// for the next spans of the same connections.
    private var encoder = ProtobufWriter(reservingCapacity: 64 * 1024)
    /// The spans and their processes.
    private var spans = SpanRuns()
    /// When the oldest waiting span arrived (monotonic nanoseconds).
    private var oldestArrival: UInt64?
    /// Spans refused because the queue was full.
    public private(set) var dropped: UInt64 = 0
    /// Spans taken and not yet made into a request, as the taker last said (`holding(_:)`).
    private var held = 0

    public init(capacity: Int, batchSize: Int, maximumDelayNanos: UInt64) {
        self.capacity = max(capacity, 1)
        self.batchSize = max(1, min(batchSize, max(capacity, 1)))
        self.maximumDelayNanos = maximumDelayNanos
        encoder.keepConnectionBlocks()
    }

    /// Spans waiting, those taken and not yet made into a request not included.
    public var count: Int { spans.count }
    public var isEmpty: Bool { spans.count == 0 }

    /// Spans waiting and those the taker holds: what counts against the capacity.
    public var occupancy: Int { spans.count + held }

    /// Records how many spans the taker holds, not yet made into requests: they count against
    /// the capacity.
    public mutating func holding(_ count: Int) {
        held = max(count, 0)
    }

    /// Encodes and queues what fits; returns how many were refused.
    @discardableResult
    public mutating func append(contentsOf new: [Span], now: UInt64) -> Int {
        let accepted = min(capacity - spans.count - held, new.count)
        if accepted > 0 {
            if spans.count == 0 { oldestArrival = now }
            new.withUnsafeBufferPointer { new in
                // Each span read where the list holds it, never copied out.
                for index in 0..<accepted { append(new[index]) }
            }
        }
        let refused = new.count - max(accepted, 0)
        dropped += UInt64(refused)
        return refused
    }

    private mutating func append(_ span: Span) {
        encoder.message(2, expectedSize: OTLPTraceEncoder.typicalSpanSize) { $0.span(span) }
        spans.append(span, end: encoder.count)
    }

    public enum Readiness: Sendable, Equatable {
        case empty
        /// Nothing due before this monotonic time.
        case waitUntil(UInt64)
        case due
    }

    public func readiness(now: UInt64) -> Readiness {
        guard let oldestArrival, spans.count > 0 else { return .empty }
        if spans.count >= batchSize { return .due }
        let deadline = oldestArrival &+ maximumDelayNanos
        return now >= deadline ? .due : .waitUntil(deadline)
    }

    /// Moves every waiting span, due or not (shutdown drains this way), into `batch` when it
    /// holds none left to make into requests (else does nothing), by exchanging buffers: nothing
    /// is copied.
    public mutating func takeBatch(into batch: inout SpanExportBatch) {
        guard batch.pending == 0 else { return }
        batch.removeAll()
        swap(&spans, &batch.spans)
        let taken = encoder.writer
        encoder.writer = batch.bytes
        batch.bytes = taken
        held = batch.pending
        oldestArrival = nil
    }

    /// Removes everything, e.g. what shutdown could not send; returns how many.
    public mutating func removeAll() -> Int {
        let count = spans.count
        spans.removeAll()
        encoder.removeAll()
        oldestArrival = nil
        held = 0
        return count
    }
}

/// Spans taken from a `SpanExportQueue`, as bytes, and the processes they came from: what one
/// export request carries. Reused batch after batch: its buffers go back to the queue.
/// Sendable as `SpanExportQueue` is.
public struct SpanExportBatch: ~Copyable, @unchecked Sendable {
    var bytes: ByteWriter
    var spans = SpanRuns()
    /// The first span not yet made into a request, the run it is in, and how many of that
    /// run's spans were.
    private var next = 0
    private var run = 0
    private var runDone = 0

    public init() {
        bytes = ByteWriter(capacity: 64 * 1024)
    }

    deinit {
        bytes.deallocate()
    }

    /// How many spans it holds that are not yet made into a request.
    public var pending: Int { spans.count - next }

    /// Forgets every span; returns how many were not made into a request.
    @discardableResult
    public mutating func removeAll() -> Int {
        let left = pending
        spans.removeAll()
        bytes.removeAll()
        (next, run, runDone) = (0, 0, 0)
        return left
    }

    /// Writes into `request`, emptied first, the `ExportTraceServiceRequest` of the next
    /// `maximum` spans (fewer when fewer are pending) and returns how many it carries: one
    /// `ResourceSpans` per process (in the order of their first spans, each process's spans in
    /// the order they were queued, the resource given by `resource`), the same bytes
    /// `OTLPTraceEncoder.encode(_:into:)` writes for them grouped so.
    public mutating func encodeRequest(into request: inout ProtobufWriter, maximum: Int, resource: (ProcessKey) -> TelemetryResource) -> Int {
        request.removeAll()
        let count = min(pending, max(maximum, 1))
        guard count > 0 else { return 0 }
        let groups = spans.groups(from: next, run: run, done: runDone, count: count)
        next += count
        (run, runDone) = groups.end
        let all = bytes.written
        for group in groups.groups {
            var size = 0
            for range in group.runs { size += range.count }
            request.message(1, expectedSize: size + 256) { resourceSpans in
                resourceSpans.resource(1, resource(group.process))
                resourceSpans.message(2, expectedSize: size + 32) { scopeSpans in
                    scopeSpans.scope(1)
                    for range in group.runs { scopeSpans.append(UnsafeBufferPointer(rebasing: all[range])) }
                }
            }
        }
        return count
    }
}

/// Where each of a list of encoded spans ends, and the processes they came from, once per
/// run of spans of one process.
struct SpanRuns {
    struct Run {
        var process: ProcessKey
        var count: Int
    }

    /// Where each span's bytes end.
    private(set) var ends: [Int] = []
    private(set) var runs: [Run] = []

    var count: Int { ends.count }

    /// Adds a span whose bytes end at `end`.
    mutating func append(_ span: Span, end: Int) {
        ends.append(end)
        if let last = runs.indices.last, runs[last].process.pid == span.pid, runs[last].process.policy == span.policy,
           runs[last].process.executable == (span.executable ?? "") {
            runs[last].count += 1
        } else {
            runs.append(Run(process: ProcessKey(of: span), count: 1))
        }
    }

    mutating func removeAll() {
        ends.removeAll(keepingCapacity: true)
        runs.removeAll(keepingCapacity: true)
    }

    /// The runs of `count` spans from span `first` (in run `run`, of whose spans `done` come
    /// before it) gathered by process, in the order of each process's first span: for each,
    /// the byte ranges of its runs; and where the span after them is, as `run` and `done`.
    func groups(from first: Int, run firstRun: Int, done firstDone: Int, count: Int)
        -> (groups: [(process: ProcessKey, runs: [Range<Int>])], end: (run: Int, done: Int)) {
        var groups: [(process: ProcessKey, runs: [Range<Int>])] = []
        var indexOf: [ProcessKey: Int] = [:]
        var (span, run, done, left) = (first, firstRun, firstDone, count)
        while left > 0 {
            let taken = min(runs[run].count - done, left)
            let range = (span == 0 ? 0 : ends[span - 1])..<ends[span + taken - 1]
            let process = runs[run].process
            span += taken
            left -= taken
            done += taken
            if done == runs[run].count { (run, done) = (run + 1, 0) }
            // A batch's processes are usually few: compared one by one before there are
            // enough of them to hash.
            let found = indexOf.isEmpty ? groups.firstIndex { $0.process == process } : indexOf[process]
            if let found {
                groups[found].runs.append(range)
                continue
            }
            groups.append((process, [range]))
            if !indexOf.isEmpty {
                indexOf[process] = groups.count - 1
            } else if groups.count > 8 {
                for (index, group) in groups.enumerated() { indexOf[group.process] = index }
            }
        }
        return (groups, (run, done))
    }
}
