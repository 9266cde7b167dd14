import Testing
@testable import PeriscopeCore

@Suite struct ConnectionTrackerFuzzTests {
    /// Random interleavings of opens, closes (some leaving the socket to another holder),
    /// exits and mutated HTTP or random bytes on a few connections of two processes: no
    /// trap, consistent counters, and well-formed spans.
    @Test func randomEventStreamsNeverBreakTheTracker() {
        var generator = SeededGenerator(seed: 42)
        var tracker = makeTracker(ConnectionTrackerConfiguration(maxConnections: 6))
        var now: UInt64 = 1_000
        var spans: [Span] = []
        for _ in 0..<5_000 {
            now += UInt64.random(in: 0...1_000, using: &generator)
            let c = Connection(
                pid: Int32.random(in: 1...2, using: &generator), fd: Int32.random(in: 3...6, using: &generator),
                socketID: UInt64.random(in: 1...3, using: &generator)
            )
            switch Int.random(in: 0..<20, using: &generator) {
            case 0: spans += tracker.handle(c.opened([.server, .client].randomElement(using: &generator) ?? .server, at: now))
            case 1: spans += tracker.handle(c.closed(at: now, stillOpen: Bool.random(using: &generator)))
            case 2: if Bool.random(using: &generator) { spans += tracker.handle(c.exited(at: now)) }
            case 3: spans += tracker.expireIdle(now: now, idleNanos: 50_000)
            default:
                let outgoing = Bool.random(using: &generator)
                let corpus = Bool.random(using: &generator) ? HTTP1Corpus.requests : HTTP1Corpus.responses
                let bytes = HTTP1Corpus.mutated(corpus.randomElement(using: &generator) ?? "", using: &generator)
                for chunk in HTTP1Corpus.chunks(bytes, using: &generator) {
                    let total = chunk.bytes.count + chunk.gap
                    spans += tracker.handle(outgoing
                        ? c.write(bytes: chunk.bytes, at: now, total: total)
                        : c.read(bytes: chunk.bytes, at: now, total: total))
                }
            }
            let tracked = tracker.connections.count
            #expect(tracker.counters.openConnections == tracked + tracker.handedOff.count)
            #expect(tracked <= 6 && tracker.handedOff.count <= 6)
        }
        spans += tracker.finishAll(at: now + 1, reason: "done")
        #expect(tracker.counters.spansEmitted == spans.count)
        #expect(tracker.counters.decodeErrors > 0)
        #expect(spans.contains { $0.http != nil })
        #expect(spans.contains { $0.tcp != nil })
        for span in spans {
            #expect(span.endTimeUnixNano >= span.startTimeUnixNano)
            #expect((span.http == nil) != (span.tcp == nil))
            #expect(span.http.map { ($0.requestBodySize ?? 0) >= 0 && ($0.responseBodySize ?? 0) >= 0 } ?? true)
            #expect(span.tcp.map { $0.bytesSent >= 0 && $0.bytesReceived >= 0 } ?? true)
        }
    }
}
