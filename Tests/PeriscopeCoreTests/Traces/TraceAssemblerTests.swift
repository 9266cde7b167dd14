import Synchronization
import Testing
@testable import PeriscopeCore

/// Builds the spans a tracker would give for hops on one node, for assembler tests.
struct Hop {
    static let spanCounter = Atomic<UInt64>(1)

    static func address(_ port: UInt16) -> SocketAddress { SocketAddress(ipv4: 127, 0, 0, 1, port: port) }

    /// An HTTP span of `pid` on the connection between `clientPort` and `serverPort`.
    static func http(
        _ kind: Span.Kind, pid: Int32, tid: Int32? = nil, clientPort: UInt16, serverPort: UInt16,
        target: String, from start: UInt64, to end: UInt64, traceparent: String? = nil, parentMayFollow: Bool = true
    ) -> Span {
        span(kind, pid: pid, tid: tid, clientPort: clientPort, serverPort: serverPort, from: start, to: end,
             http: HTTPDetails(method: "GET", path: target, target: target, traceparent: traceparent),
             digest: SpanLinkHints.digest(method: "GET", target: target), parentMayFollow: parentMayFollow)
    }

    /// A connection span whose first bytes were `lead`.
    static func tcp(
        _ kind: Span.Kind, pid: Int32, tid: Int32? = nil, clientPort: UInt16, serverPort: UInt16,
        lead: String, from start: UInt64, to end: UInt64, parentMayFollow: Bool = true
    ) -> Span {
        span(kind, pid: pid, tid: tid, clientPort: clientPort, serverPort: serverPort, from: start, to: end,
             tcp: TCPDetails(bytesSent: 1, bytesReceived: 1),
             digest: SpanLinkHints.digest(leadingBytes: Array(lead.utf8)), parentMayFollow: parentMayFollow)
    }

    static func span(
        _ kind: Span.Kind, pid: Int32, tid: Int32?, clientPort: UInt16, serverPort: UInt16, from start: UInt64, to end: UInt64,
        http: HTTPDetails? = nil, tcp: TCPDetails? = nil, digest: UInt64?, parentMayFollow: Bool
    ) -> Span {
        let client = address(clientPort), server = address(serverPort)
        var context: TraceContext?
        if let traceparent = http?.traceparent { context = TraceContext(traceparent: traceparent) }
        let id = spanCounter.add(1, ordering: .relaxed).newValue
        var span = Span(
            traceID: context?.traceID ?? TraceID(high: 0xabc, low: id), spanID: SpanID(value: id),
            parentSpanID: context?.parentID, kind: kind, name: http == nil ? "tcp" : "GET",
            startTimeUnixNano: start, endTimeUnixNano: end, pid: pid, tid: tid ?? pid,
            local: kind == .client ? client : server, peer: kind == .client ? server : client, http: http, tcp: tcp
        )
        span.link = SpanLinkHints(requestDigest: digest, parentMayFollow: parentMayFollow)
        return span
    }
}

let ms: UInt64 = 1_000_000

/// curl(1) → nginx(2) → haproxy(3) → python(4) for one request at `t`, in the order they finish.
func chain(target: String, at t: UInt64, curlPort: UInt16, nginxPort: UInt16, haproxyPort: UInt16, traceparent: String? = nil) -> [Span] {
    [
        Hop.http(.server, pid: 4, clientPort: haproxyPort, serverPort: 8003, target: target, from: t + 4, to: t + 5, traceparent: traceparent),
        Hop.http(.client, pid: 3, clientPort: haproxyPort, serverPort: 8003, target: target, from: t + 3, to: t + 6, traceparent: traceparent),
        Hop.http(.server, pid: 3, clientPort: nginxPort, serverPort: 8002, target: target, from: t + 2, to: t + 7, traceparent: traceparent),
        Hop.http(.client, pid: 2, clientPort: nginxPort, serverPort: 8002, target: target, from: t + 2, to: t + 8, traceparent: traceparent),
        Hop.http(.server, pid: 2, clientPort: curlPort, serverPort: 8001, target: target, from: t + 1, to: t + 9, traceparent: traceparent),
        Hop.http(.client, pid: 1, clientPort: curlPort, serverPort: 8001, target: target, from: t, to: t + 10, traceparent: traceparent, parentMayFollow: false),
    ]
}

@Suite struct TraceAssemblerTests {
    let quick = TraceAssemblerConfiguration(holdNanos: 2_000 * ms, settleNanos: 0, retainNanos: 30_000 * ms)

    /// (pid, kind) → the (pid, kind) of its parent, for checking trees.
    func shape(_ trace: AssembledTrace) -> [String: String] {
        let byID = Dictionary(uniqueKeysWithValues: trace.spans.map { ($0.spanID, $0) })
        var result: [String: String] = [:]
        for span in trace.spans {
            let parent = span.parentSpanID.flatMap { byID[$0] }
            result["\(span.pid)\(span.kind.rawValue.prefix(1))"] = parent.map { "\($0.pid)\($0.kind.rawValue.prefix(1))" } ?? "-"
        }
        return result
    }

    @Test func serverSpanWithoutPossibleParentOrChildrenLeavesAtOnceAndIsNotKept() throws {
        var assembler = TraceAssembler(configuration: .init(settleNanos: 50 * ms))
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        var span = Hop.http(.server, pid: 7, clientPort: 40010, serverPort: 8080, target: "/leaf", from: 1_000, to: 2_000,
                            traceparent: "00-\(traceID)-00f067aa0ba902b7-01", parentMayFollow: false)
        span.link.childMayFollow = false
        assembler.add([span], now: 10)
        let traces = assembler.advance(now: 10)
        #expect(traces.count == 1 && traces.first?.completion == .complete, "no settle time to wait out")
        #expect(traces.first?.spans.first?.traceID.hex == traceID)
        #expect(traces.first?.spans.first?.parentSpanID?.hex == "00f067aa0ba902b7")
        #expect(traces.first?.incoming?.traceID.hex == traceID)
        #expect(assembler.counters.pendingSpans == 0 && assembler.counters.tracesCompleted == 1)

        // A call of the same process waiting for its server span keeps the next one in the assembler.
        let call = Hop.http(.client, pid: 7, clientPort: 40011, serverPort: 9090, target: "/leaf2", from: 3_000, to: 3_500)
        var parent = Hop.http(.server, pid: 7, clientPort: 40012, serverPort: 8080, target: "/leaf2", from: 2_900, to: 4_000, parentMayFollow: false)
        parent.link.childMayFollow = false
        assembler.add([call, parent], now: 20)
        let linked = assembler.advance(now: 20 + 50 * ms)
        #expect(linked.count == 1 && linked.first?.spans.count == 2)
        #expect(linked.first.map(shape) == ["7S": "-", "7C": "7S"])
    }

    @Test func proxyChainFinishingInnermostFirstBecomesOneTraceOnceTheRootArrives() throws {
        var assembler = TraceAssembler(configuration: quick)
        let spans = chain(target: "/r/1", at: 1_000, curlPort: 40001, nginxPort: 40002, haproxyPort: 40003)
        assembler.add(Array(spans.dropLast()), now: 1)
        #expect(assembler.advance(now: 2).isEmpty, "the root has not arrived")
        #expect(assembler.counters.pendingTraces == 1)
        assembler.add([spans.last!], now: 3)
        let traces = assembler.advance(now: 3)
        let trace = try #require(traces.first)
        #expect(traces.count == 1)
        #expect(trace.completion == .complete)
        #expect(trace.spans.count == 6)
        #expect(Set(trace.spans.map(\.traceID)).count == 1)
        #expect(trace.spans.first?.pid == 1, "parents before children")
        #expect(shape(trace) == ["1C": "-", "2S": "1C", "2C": "2S", "3S": "2C", "3C": "3S", "4S": "3C"])
        #expect(assembler.counters.pendingSpans == 0 && assembler.counters.pendingTraces == 0)
        #expect(assembler.counters.tracesCompleted == 1 && assembler.counters.spansLinked == 5)
    }

    @Test(arguments: [0, 1, 2, 3])
    func interleavedRequestsThroughEventLoopProxiesStayInTheirOwnTraces(seed: Int) throws {
        var assembler = TraceAssembler(configuration: quick)
        // Two clients, 50 requests each, overlapping in time; proxies serve both on one thread.
        var spans: [Span] = []
        for i in 0..<50 {
            for client in 0..<2 {
                let t = UInt64(i * 7 + client * 3) * 1_000
                var hops = chain(target: "/c\(client)/\(i)", at: t, curlPort: UInt16(41000 + client), nginxPort: UInt16(42000 + i * 2 + client),
                                 haproxyPort: UInt16(43000 + i * 2 + client))
                // Stretch the proxies so that requests overlap.
                for j in hops.indices where hops[j].pid != 1 { hops[j].endTimeUnixNano += 6_000 }
                hops[5].endTimeUnixNano += 7_000
                hops[5].local.port = UInt16(41000 + client)
                spans += hops
            }
        }
        spans.sort { ($0.endTimeUnixNano, $0.spanID.value) < ($1.endTimeUnixNano, $1.spanID.value) }
        var generator = SeededGenerator(seed: UInt64(seed))
        // Arrival in small shuffled batches, as events from several CPUs interleave.
        var now: UInt64 = 0
        var traces: [AssembledTrace] = []
        for batch in stride(from: 0, to: spans.count, by: 4) {
            now += 1
            assembler.add(Array(spans[batch..<min(batch + 4, spans.count)]).shuffled(using: &generator), now: now)
            traces += assembler.advance(now: now)
        }
        traces += assembler.flush(now: now + 1)
        #expect(traces.count == 100)
        for trace in traces {
            #expect(trace.completion == .complete)
            #expect(Set(trace.spans.compactMap(\.http?.target)).count == 1, "one request per trace")
            #expect(trace.spans.count == 6)
            #expect(shape(trace) == ["1C": "-", "2S": "1C", "2C": "2S", "3S": "2C", "3C": "3S", "4S": "3C"])
        }
    }

    /// An event-loop proxy forwarding many identical requests (one route under load) over
    /// keep-alive upstream connections, finishing out of order: the request bytes cannot
    /// tell the requests apart, their timing must.
    @Test(arguments: [0, 1, 2, 3])
    func identicalRequestsThroughAnEventLoopProxyStayInTheirOwnTraces(seed: Int) throws {
        var assembler = TraceAssembler(configuration: quick)
        var generator = SeededGenerator(seed: UInt64(seed) + 100)
        var spans: [Span] = []
        var upstreamFree = [UInt64](repeating: 0, count: 16)
        // When each answer is written: random, but one at a time, as one thread writes them.
        var ends = (0..<200).map { UInt64($0) * 10_000 + 50_000 + UInt64.random(in: 0...40_000, using: &generator) }
        let order = ends.indices.sorted { ends[$0] < ends[$1] }
        for (previous, next) in zip(order, order.dropFirst()) where ends[next] < ends[previous] + 1_000 {
            ends[next] = ends[previous] + 1_000
        }
        for i in 0..<200 {
            let start = UInt64(i) * 10_000
            let duration = ends[i] - start
            // The proxy reads the request, forwards it at once, answers as soon as the backend did.
            let upstream = upstreamFree.firstIndex { $0 <= start + 1_000 }!
            upstreamFree[upstream] = start + duration
            let clientPort = UInt16(40000 + i), upstreamPort = UInt16(45000 + upstream)
            var front = Hop.http(.server, pid: 2, clientPort: clientPort, serverPort: 8080, target: "/", from: start, to: start + duration,
                                 parentMayFollow: false)
            front.link.childMayFollow = true
            let call = Hop.http(.client, pid: 2, clientPort: upstreamPort, serverPort: 9090, target: "/",
                                from: start + 1_000, to: start + duration - 200)
            let backend = Hop.http(.server, pid: 3, clientPort: upstreamPort, serverPort: 9090, target: "/",
                                   from: start + 1_100, to: start + duration - 300)
            spans += [front, call, backend]
        }
        spans.sort { ($0.endTimeUnixNano, $0.spanID.value) < ($1.endTimeUnixNano, $1.spanID.value) }
        var now: UInt64 = 0
        var traces: [AssembledTrace] = []
        for batch in stride(from: 0, to: spans.count, by: 4) {
            now += 1
            // Processes interleave in a batch; one process's events keep their order (one thread).
            var shuffled = Array(spans[batch..<min(batch + 4, spans.count)]).shuffled(using: &generator)
            for pid in Set(shuffled.map(\.pid)) {
                let places = shuffled.indices.filter { shuffled[$0].pid == pid }
                let ordered = places.map { shuffled[$0] }.sorted { $0.endTimeUnixNano < $1.endTimeUnixNano }
                for (place, span) in zip(places, ordered) { shuffled[place] = span }
            }
            assembler.add(shuffled, now: now)
            traces += assembler.advance(now: now)
        }
        traces += assembler.flush(now: now + 1)
        let wrong = traces.filter { trace in
            let front = trace.spans.first { $0.pid == 2 && $0.kind == .server }
            let starts = Set(trace.spans.map { ($0.startTimeUnixNano / 10_000) })
            return trace.spans.count != 3 || front == nil || starts.count != 1
        }
        #expect(traces.count == 200)
        #expect(wrong.isEmpty, "\(wrong.count) traces mix requests: \(wrong.prefix(3).map { $0.spans.map { "\($0.pid)\($0.kind.rawValue.prefix(1))@\($0.startTimeUnixNano / 1000)" } })")
    }

    /// Searches go newest first and stop at spans that ended long before; a span that arrives
    /// long after it ended (an exchange ended by its connection's close) does not stop them.
    @Test func aSpanArrivingLongAfterItEndedDoesNotHideOlderCandidates() throws {
        var assembler = TraceAssembler(configuration: quick)
        let call = Hop.http(.client, pid: 2, clientPort: 45000, serverPort: 9090, target: "/", from: 110 * ms, to: 190 * ms)
        let stale = Hop.http(.client, pid: 2, clientPort: 45001, serverPort: 9090, target: "/", from: 10 * ms, to: 20 * ms)
        var answer = Hop.http(.server, pid: 2, clientPort: 40000, serverPort: 8080, target: "/", from: 100 * ms, to: 200 * ms,
                              parentMayFollow: false)
        answer.link.childMayFollow = true
        assembler.add([call, stale, answer], now: 1)
        let traces = assembler.flush(now: 2)
        let trace = try #require(traces.first { $0.spans.contains { $0.spanID == answer.spanID } })
        #expect(trace.spans.map(\.spanID) == [answer.spanID, call.spanID])
    }

    @Test func incomingTraceparentKeepsItsTraceIDAndParentThroughEveryHop() throws {
        var assembler = TraceAssembler(configuration: quick)
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        var spans = chain(target: "/tp", at: 1_000, curlPort: 40001, nginxPort: 40002, haproxyPort: 40003, traceparent: traceparent)
        spans.removeLast()  // the caller is not traced: nginx's server span is the root
        spans[4].link.parentMayFollow = false
        assembler.add(spans, now: 1)
        let trace = try #require(assembler.advance(now: 1).first)
        #expect(trace.spans.allSatisfy { $0.traceID == TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736") })
        #expect(trace.spans[0].parentSpanID == SpanID(hex: "00f067aa0ba902b7"))
        #expect(trace.incoming == TraceContext(traceparent: traceparent))
        #expect(shape(trace) == ["2S": "-", "2C": "2S", "3S": "2C", "3C": "3S", "4S": "3C"])
    }

    @Test func traceparentForwardedInsideAnUntracedRootStillNamesTheTrace() throws {
        var assembler = TraceAssembler(configuration: quick)
        var spans = chain(target: "/x", at: 1_000, curlPort: 40001, nginxPort: 40002, haproxyPort: 40003)
        spans[0].http?.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        assembler.add(spans, now: 1)
        let trace = try #require(assembler.advance(now: 1).first)
        #expect(trace.spans.allSatisfy { $0.traceID == TraceID(hex: "0af7651916cd43dd8448eb211c80319c") })
        #expect(trace.spans[0].parentSpanID == nil)
    }

    @Test func childReadingItsClockMicrosecondsOutsideItsParentIsMovedInsideWithinTheSkew() throws {
        var assembler = TraceAssembler(configuration: quick)
        let server = Hop.http(.server, pid: 2, clientPort: 40000, serverPort: 8001, target: "/a", from: 1_000 - 5, to: 2_000 + 7)
        let client = Hop.http(.client, pid: 1, clientPort: 40000, serverPort: 8001, target: "/a", from: 1_000, to: 2_000, parentMayFollow: false)
        assembler.add([server, client], now: 1)
        let trace = try #require(assembler.advance(now: 1).first)
        #expect(trace.spans.count == 2)
        #expect(trace.spans[1].startTimeUnixNano == 1_000 && trace.spans[1].endTimeUnixNano == 2_000)
    }

    @Test func traceWhoseRootNeverArrivesIsHeldForTheHoldTimeThenEmittedAsIs() throws {
        var assembler = TraceAssembler(configuration: quick)
        var spans = chain(target: "/slow", at: 1_000, curlPort: 40001, nginxPort: 40002, haproxyPort: 40003)
        spans.removeLast()
        assembler.add(spans, now: 10 * ms)
        #expect(assembler.advance(now: 2_009 * ms).isEmpty)
        let trace = try #require(assembler.advance(now: 2_010 * ms).first)
        #expect(trace.completion == .expired)
        #expect(trace.spans.count == 5 && trace.spans[0].parentSpanID == nil)
        #expect(assembler.counters.tracesExpired == 1 && assembler.counters.pendingSpans == 0)
    }

    @Test func spansFinishingAfterTheirTraceLeftJoinItLate() throws {
        var assembler = TraceAssembler(configuration: quick)
        let spans = chain(target: "/late", at: 1_000, curlPort: 40001, nginxPort: 40002, haproxyPort: 40003)
        // The client and nginx gave up; haproxy and the backend finish later.
        assembler.add(Array(spans[3...]), now: 1)
        let first = try #require(assembler.advance(now: 1).first)
        #expect(first.spans.count == 3)
        assembler.add(Array(spans[0..<3]), now: 5_000 * ms)
        let late = try #require(assembler.advance(now: 5_000 * ms).first)
        #expect(late.completion == .late)
        #expect(late.spans.count == 3)
        #expect(late.spans.allSatisfy { $0.traceID == first.traceID })
        #expect(late.spans[0].parentSpanID == first.spans.first { $0.pid == 2 && $0.kind == .client }?.spanID)
        #expect(assembler.counters.lateSpans == 3)
    }

    @Test func pendingSpansAreBoundedAndEvictionsCounted() {
        var assembler = TraceAssembler(configuration: .init(holdNanos: 60_000 * ms, settleNanos: 0, maxPendingSpans: 32))
        for i in 0..<100 {
            assembler.add([Hop.http(.server, pid: 2, clientPort: UInt16(30000 + i), serverPort: 8001, target: "/\(i)", from: UInt64(i), to: UInt64(i) + 1)], now: UInt64(i))
            #expect(assembler.counters.pendingSpans <= 32)
        }
        let traces = assembler.advance(now: 100)
        #expect(traces.allSatisfy { $0.completion == .evicted })
        #expect(assembler.counters.tracesEvicted == traces.count && traces.count >= 68)
        #expect(traces.first?.spans.first?.http?.target == "/0", "oldest first")
    }

    @Test func emittedSpansAreForgottenAfterRetention() {
        var assembler = TraceAssembler(configuration: .init(settleNanos: 0, retainNanos: 1_000 * ms, maxRetainedSpans: 10))
        for i in 0..<50 {
            let spans = chain(target: "/\(i)", at: UInt64(i) * 100, curlPort: UInt16(30000 + i), nginxPort: UInt16(31000 + i), haproxyPort: UInt16(32000 + i))
            assembler.add(spans, now: UInt64(i))
            _ = assembler.advance(now: UInt64(i))
        }
        #expect(assembler.nodes.count <= 10 + 6)
        _ = assembler.advance(now: 10_000 * ms)
        #expect(assembler.nodes.isEmpty && assembler.byConnection.isEmpty && assembler.byDigest.isEmpty && assembler.byThread.isEmpty)
    }

    @Test func threadPerRequestServerParentsItsCallsByThread() throws {
        var assembler = TraceAssembler(configuration: quick)
        // An app (pid 5) serving /order on thread 51 calls a database and another service.
        let database = Hop.tcp(.client, pid: 5, tid: 51, clientPort: 50001, serverPort: 5432, lead: "\u{0}\u{0}\u{0}\u{8}\u{4}\u{d2}\u{16}/", from: 110, to: 150)
        let call = Hop.http(.client, pid: 5, tid: 51, clientPort: 50002, serverPort: 9000, target: "/stock", from: 160, to: 180)
        let other = Hop.http(.client, pid: 5, tid: 52, clientPort: 50003, serverPort: 9000, target: "/other", from: 120, to: 130)
        let server = Hop.http(.server, pid: 5, tid: 51, clientPort: 50000, serverPort: 8080, target: "/order", from: 100, to: 200, parentMayFollow: false)
        assembler.add([database, other, call, server], now: 1)
        let traces = assembler.advance(now: 1)
        let trace = try #require(traces.first { $0.spans.first?.kind == .server })
        #expect(trace.spans.count == 3)
        #expect(Set(trace.spans.map(\.tid)) == [51])
        #expect(traces.count == 1, "the other thread's call waits for its own request")
    }

    @Test func eventLoopThreadDoesNotParentByThread() {
        var assembler = TraceAssembler(configuration: quick)
        let a = Hop.http(.server, pid: 6, tid: 60, clientPort: 50000, serverPort: 8080, target: "/a", from: 100, to: 200, parentMayFollow: false)
        let b = Hop.http(.server, pid: 6, tid: 60, clientPort: 50001, serverPort: 8080, target: "/b", from: 150, to: 300, parentMayFollow: false)
        let call = Hop.http(.client, pid: 6, tid: 60, clientPort: 50002, serverPort: 9000, target: "/elsewhere", from: 210, to: 220)
        assembler.add([a], now: 1)
        assembler.add([call, b], now: 2)
        let traces = assembler.advance(now: 2_000 * ms + 2)
        #expect(traces.count == 3, "the call could be for either request: it stays apart")
    }

    @Test func keepAliveExchangesPairWithTheirOwnFarEnd() throws {
        var assembler = TraceAssembler(configuration: quick)
        var spans: [Span] = []
        for i in 0..<5 {
            let t = UInt64(i) * 100
            spans.append(Hop.http(.server, pid: 2, clientPort: 40000, serverPort: 8001, target: "/same", from: t + 10, to: t + 20))
            spans.append(Hop.http(.client, pid: 1, clientPort: 40000, serverPort: 8001, target: "/same", from: t, to: t + 30, parentMayFollow: false))
        }
        assembler.add(spans, now: 1)
        let traces = assembler.advance(now: 1)
        #expect(traces.count == 5)
        for trace in traces {
            #expect(trace.spans.count == 2)
            #expect(trace.spans[1].startTimeUnixNano == trace.spans[0].startTimeUnixNano + 10)
        }
    }

    @Test func tcpOnlyHopJoinsTheTraceOfTheRequestItRelays() throws {
        var assembler = TraceAssembler(configuration: quick)
        let t: UInt64 = 1_000
        let request = "GET /tcp HTTP/1.0\r\nHost: 127.0.0.1:8002\r\nConnection: close\r\n\r\n"
        let backend = Hop.http(.server, pid: 4, clientPort: 40003, serverPort: 8003, target: "/tcp", from: t + 4, to: t + 5)
        let nginxOut = Hop.http(.client, pid: 2, clientPort: 40002, serverPort: 8002, target: "/tcp", from: t + 2, to: t + 8)
        let nginxIn = Hop.http(.server, pid: 2, clientPort: 40001, serverPort: 8001, target: "/tcp", from: t + 1, to: t + 9)
        let curl = Hop.http(.client, pid: 1, clientPort: 40001, serverPort: 8001, target: "/tcp", from: t, to: t + 10, parentMayFollow: false)
        // haproxy in TCP mode: connection spans from accept and connect to close.
        let haproxyOut = Hop.tcp(.client, pid: 3, clientPort: 40003, serverPort: 8003, lead: request, from: t + 3, to: t + 11)
        let haproxyIn = Hop.tcp(.server, pid: 3, clientPort: 40002, serverPort: 8002, lead: request, from: t + 1, to: t + 12)
        assembler.add([backend, nginxOut, nginxIn, curl], now: 1)
        let first = try #require(assembler.advance(now: 1).first)
        assembler.add([haproxyOut, haproxyIn], now: 2)
        let late = try #require(assembler.advance(now: 2).first)
        #expect(first.spans.count == 3)
        #expect(late.completion == .late)
        let all = first.spans + late.spans
        #expect(Set(all.map(\.traceID)).count == 1)
        let trace = AssembledTrace(spans: all, completion: .complete)
        #expect(shape(trace) == ["1C": "-", "2S": "1C", "2C": "2S", "3S": "2C", "3C": "3S", "4S": "3C"])
    }

    @Test(arguments: [
        ("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a HTTP/1.0\r\nHost: y\r\nConnection: close\r\n\r\n", true),
        ("GET /a HTTP/1.1\r\n", "GET /b HTTP/1.1\r\n", false),
        ("\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\u{fc}\u{3}\u{3}abcdefgh", "\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\u{fc}\u{3}\u{3}abcdefghijk", true),
        ("abc", "abc", false),
    ])
    func leadingBytesDigestFollowsTheRequestNotItsRewrites(a: String, b: String, equal: Bool) {
        let x = SpanLinkHints.digest(leadingBytes: Array(a.utf8)), y = SpanLinkHints.digest(leadingBytes: Array(b.utf8))
        #expect((x != nil && x == y) == equal)
    }
}
