import Testing
@testable import PeriscopeCore

@Suite struct SpanExportQueueTests {
    /// The resource a test gives each process: its pid and executable, as the agent's are.
    static func resource(_ process: ProcessKey) -> TelemetryResource {
        .process(
            pid: process.pid, executable: process.executable.isEmpty ? nil : process.executable, environmentServiceName: nil,
            hostName: "node", extra: process.policy.map { ["policy": $0.description] } ?? [:]
        )
    }

    /// What an exporter sent before spans were encoded when queued: the batch's spans grouped
    /// by process in the order of each process's first span, then encoded together.
    static func expectedRequest(_ spans: ArraySlice<Span>) -> [UInt8] {
        var keys: [ProcessKey] = []
        var groups: [OTLPTraceEncoder.ResourceGroup] = []
        for span in spans {
            let key = ProcessKey(of: span)
            if let index = keys.firstIndex(of: key) {
                groups[index].spans.append(span)
            } else {
                keys.append(key)
                groups.append(.init(resource: resource(key), spans: [span]))
            }
        }
        return OTLPTraceEncoder.encode(groups)
    }

    /// Spans of many connections and of processes that come and go in runs and interleaved
    /// (pids, executables, policies, enough processes for a batch to hash them).
    static var spans: [Span] {
        let policies: [PolicyID?] = [nil, PolicyID(name: "shop"), PolicyID(name: "db")]
        var spans: [Span] = []
        for (index, base) in SpanFixtures.manyConnections.enumerated() {
            var span = base
            let process = index % 7 < 3 ? index / 40 % 13 : index % 3
            span.pid = Int32(100 + process)
            span.policy = policies[process % 3]
            if process == 5 { span.executable = nil }
            span.spanID = SpanID(value: UInt64(index + 1))
            spans.append(span)
        }
        return spans
    }

    /// Every request made from what was taken (requests of at most `batchSize` spans, split
    /// inside runs of one process; spans queued in lists of every length, taken when a batch
    /// was due or whenever the last was sent) is the request the spans made when they were
    /// grouped and encoded at export: the same bytes.
    @Test(arguments: [1, 7, 64, 512, 2048])
    func requestsAreTheBytesOfTheSpansEncodedAtExport(batchSize: Int) throws {
        let spans = Self.spans
        var queue = SpanExportQueue(capacity: spans.count, batchSize: batchSize, maximumDelayNanos: 0)
        var batch = SpanExportBatch()
        var request = ProtobufWriter()
        var sent = 0
        var queued = 0
        var length = 1
        func sendOne() {
            queue.takeBatch(into: &batch)
            let available = batch.pending
            let count = batch.encodeRequest(into: &request, maximum: batchSize, resource: Self.resource)
            queue.holding(batch.pending)
            #expect(count == min(batchSize, available) && (count > 0 || sent == queued))
            #expect(queue.occupancy == queued - sent - count)
            let expected = Self.expectedRequest(spans[sent..<(sent + count)])
            #expect(request.withUnsafeBytes { Array($0) } == expected, "request of spans \(sent)..<\(sent + count)")
            sent += count
        }
        while queued < spans.count {
            let end = min(queued + length, spans.count)
            #expect(queue.append(contentsOf: Array(spans[queued..<end]), now: 0) == 0)
            queued = end
            length = length % 37 + 5
            if queue.count >= batchSize || length % 3 == 0 { sendOne() }
        }
        while sent < queued { sendOne() }
        queue.takeBatch(into: &batch)
        #expect(batch.pending == 0 && queue.isEmpty)
        #expect(batch.encodeRequest(into: &request, maximum: batchSize, resource: Self.resource) == 0)
        #expect(request.count == 0)
    }

    /// Spans taken and not yet sent count against the capacity, until the taker says they
    /// were sent; the refused ones leave nothing behind.
    @Test func refusesAndCountsWhatDoesNotFit() {
        let spans = Array(Self.spans.prefix(9))
        var queue = SpanExportQueue(capacity: 5, batchSize: 2, maximumDelayNanos: 100)
        #expect(queue.append(contentsOf: Array(spans[..<3]), now: 0) == 0)
        #expect(queue.append(contentsOf: Array(spans[3..<7]), now: 0) == 2)
        #expect(queue.count == 5)
        #expect(queue.dropped == 2)
        var batch = SpanExportBatch()
        var request = ProtobufWriter()
        queue.takeBatch(into: &batch)
        #expect(queue.count == 0 && queue.occupancy == 5 && batch.pending == 5)
        #expect(queue.append(contentsOf: [spans[7]], now: 0) == 1)
        #expect(batch.encodeRequest(into: &request, maximum: 2, resource: Self.resource) == 2)
        queue.holding(batch.pending)
        #expect(queue.append(contentsOf: [spans[7], spans[8]], now: 0) == 0)
        // What is held is sent before anything taken later.
        queue.takeBatch(into: &batch)
        #expect(batch.encodeRequest(into: &request, maximum: 2, resource: Self.resource) == 2)
        #expect(batch.encodeRequest(into: &request, maximum: 2, resource: Self.resource) == 1)
        #expect(request.withUnsafeBytes { Array($0) } == Self.expectedRequest(spans[4..<5]))
        queue.holding(batch.pending)
        queue.takeBatch(into: &batch)
        #expect(batch.encodeRequest(into: &request, maximum: 2, resource: Self.resource) == 2)
        #expect(request.withUnsafeBytes { Array($0) } == Self.expectedRequest(spans[7..<9]))
        #expect(queue.dropped == 3)
    }

    @Test func aBatchIsDueBySizeOrByAge() {
        let spans = Array(Self.spans.prefix(3))
        var queue = SpanExportQueue(capacity: 10, batchSize: 3, maximumDelayNanos: 100)
        #expect(queue.readiness(now: 0) == .empty)
        queue.append(contentsOf: [spans[0]], now: 50)
        #expect(queue.readiness(now: 60) == .waitUntil(150))
        #expect(queue.readiness(now: 150) == .due)
        queue.append(contentsOf: Array(spans[1...]), now: 70)
        #expect(queue.readiness(now: 71) == .due)
        var batch = SpanExportBatch()
        queue.takeBatch(into: &batch)
        #expect(batch.pending == 3)
        #expect(queue.readiness(now: 72) == .empty)
    }

    @Test func removeAllForgetsWhatWasQueued() {
        var queue = SpanExportQueue(capacity: 10, batchSize: 4, maximumDelayNanos: 0)
        queue.append(contentsOf: Array(Self.spans.prefix(6)), now: 0)
        #expect(queue.removeAll() == 6)
        #expect(queue.isEmpty && queue.readiness(now: 1) == .empty)
        queue.append(contentsOf: [Self.spans[9]], now: 0)
        var batch = SpanExportBatch()
        var request = ProtobufWriter()
        queue.takeBatch(into: &batch)
        #expect(batch.encodeRequest(into: &request, maximum: 4, resource: Self.resource) == 1)
        #expect(request.withUnsafeBytes { Array($0) } == Self.expectedRequest(Self.spans[9..<10]))
        queue.append(contentsOf: Array(Self.spans.prefix(3)), now: 0)
        queue.takeBatch(into: &batch)
        #expect(batch.removeAll() == 3 && batch.pending == 0)
    }
}
