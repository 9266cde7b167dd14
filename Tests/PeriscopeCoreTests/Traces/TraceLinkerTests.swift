import Testing
@testable import PeriscopeCore

/// The context rules over recorded event sequences: both ends of connections on one node,
/// in the order the ring buffer can deliver them.
@Suite struct TraceLinkerTests {
    static let ms: UInt64 = 1_000_000

    /// Both ends of one loopback connection: the client (pid `clientPID`, port `clientPort`)
    /// and the server (pid `serverPID`, port `serverPort`).
    struct Hop {
        var client: Connection
        var server: Connection

        init(clientPID: Int32, clientPort: UInt16, serverPID: Int32, serverPort: UInt16, fd: Int32 = 10) {
            let clientAddress = SocketAddress(ipv4: 127, 0, 0, 1, port: clientPort)
            let serverAddress = SocketAddress(ipv4: 127, 0, 0, 1, port: serverPort)
            client = Connection(pid: clientPID, fd: fd, socketID: UInt64(clientPort) << 8 | 1, local: clientAddress, peer: serverAddress)
            server = Connection(pid: serverPID, fd: fd + 1, socketID: UInt64(clientPort) << 8 | 2, local: serverAddress, peer: clientAddress)
        }

        func opened(at t: UInt64) -> [CaptureEvent] {
            [client.opened(.client, at: t), server.opened(.server, at: t)]
        }
    }

    static func request(_ path: String, traceparent: String? = nil) -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n" + (traceparent.map { "traceparent: \($0)\r\n" } ?? "") + "\r\n"
    }

    static let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    func parent(of span: Span, in spans: [Span]) -> Span? {
        spans.first { $0.spanID == span.parentSpanID }
    }

    @Test(arguments: [false, true])
    func serverSpanIsTheChildOfItsClientWhicheverEndTheRingBufferDeliversFirst(readBeforeWrite: Bool) throws {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40000, serverPID: 2, serverPort: 8080)
        var events = hop.opened(at: 0)
        let write = hop.client.write(Self.request("/a"), at: 10 * Self.ms)
        let read = hop.server.read(Self.request("/a"), at: 9 * Self.ms)
        events += readBeforeWrite ? [read, write] : [write, read]
        events += [hop.server.write(Self.response, at: 11 * Self.ms), hop.client.read(Self.response, at: 12 * Self.ms)]
        var spans = tracker.run(events)
        tracker.advance(now: 13 * Self.ms, into: &spans)
        #expect(spans.count == 2)
        let server = try #require(spans.first { $0.kind == .server })
        let client = try #require(spans.first { $0.kind == .client })
        #expect(server.traceID == client.traceID && server.parentSpanID == client.spanID && server.parentIsLocal)
        #expect(client.parentSpanID == nil && !client.parentIsLocal)
        #expect(tracker.linker.counters.provisionalTraces == (readBeforeWrite ? 1 : 0))
        #expect(tracker.linker.counters.requestsInFlight == 0 && tracker.linker.counters.heldSpans == 0)
    }

    @Test func aServerSpanWhoseCallerStaysSilentLeavesAfterTheReorderWindowAsARoot() throws {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40001, serverPID: 2, serverPort: 8080)
        // The client's side is tracked (it connected) but its write was never seen.
        var spans = tracker.run(hop.opened(at: 0) + [
            hop.server.read(Self.request("/b"), at: 1 * Self.ms),
            hop.server.write(Self.response, at: 2 * Self.ms),
        ])
        #expect(spans.isEmpty, "waits for the caller's context")
        tracker.advance(now: 10 * Self.ms, into: &spans)
        #expect(spans.isEmpty)
        tracker.advance(now: 1 * Self.ms + 20 * Self.ms, into: &spans)
        let server = try #require(spans.first)
        #expect(spans.count == 1 && server.parentSpanID == nil && !server.parentIsLocal)
        #expect(tracker.linker.counters.provisionalExpired == 1)
    }

    /// On a loaded machine the agent reads a server's request late, and the writer's event,
    /// stamped at the end of its write, later still (the writer waited for a CPU there): the
    /// wait counts from when the read is seen, so the caller still becomes the parent.
    @Test func aServerReadSeenLateStillWaitsItsWholeWindowForTheCaller() throws {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40002, serverPID: 2, serverPort: 8080)
        var spans = tracker.run(hop.opened(at: 0))
        tracker.advance(now: 500 * Self.ms, into: &spans)
        spans += tracker.run([
            hop.server.read(Self.request("/late"), at: 1 * Self.ms),
            hop.server.write(Self.response, at: 2 * Self.ms),
        ])
        tracker.advance(now: 510 * Self.ms, into: &spans)
        #expect(spans.isEmpty, "still waiting: the agent saw the read only at 500 ms")
        spans += tracker.run([hop.client.write(Self.request("/late"), at: 505 * Self.ms), hop.client.read(Self.response, at: 506 * Self.ms)])
        tracker.advance(now: 515 * Self.ms, into: &spans)
        let server = try #require(spans.first { $0.kind == .server })
        let client = try #require(spans.first { $0.kind == .client })
        #expect(server.parentSpanID == client.spanID && server.traceID == client.traceID)
        #expect(tracker.linker.counters.provisionalExpired == 0)
    }

    /// curl(1) → nginx(2) → python(3): nginx forwards the request on another connection.
    @Test(arguments: [false, true])
    func aProxyChainIsOneTraceEachHopNestedInItsCaller(outOfOrder: Bool) throws {
        var tracker = makeTracker()
        let front = Hop(clientPID: 1, clientPort: 40010, serverPID: 2, serverPort: 8080)
        let back = Hop(clientPID: 2, clientPort: 40011, serverPID: 3, serverPort: 9090, fd: 20)
        var events = front.opened(at: 0) + back.opened(at: 0)
        let curlWrite = front.client.write(Self.request("/chain"), at: 10 * Self.ms)
        let nginxRead = front.server.read(Self.request("/chain"), at: 9 * Self.ms, tid: 7)
        let nginxWrite = back.client.write(Self.request("/chain"), at: 11 * Self.ms, tid: 7)
        let pythonRead = back.server.read(Self.request("/chain"), at: 11 * Self.ms)
        // Out of order: every reader's event before its writer's.
        events += outOfOrder ? [nginxRead, pythonRead, nginxWrite, curlWrite] : [curlWrite, nginxRead, nginxWrite, pythonRead]
        events += [
            back.server.write(Self.response, at: 12 * Self.ms), back.client.read(Self.response, at: 13 * Self.ms, tid: 7),
            front.server.write(Self.response, at: 14 * Self.ms, tid: 7), front.client.read(Self.response, at: 15 * Self.ms),
        ]
        var spans = tracker.run(events)
        tracker.advance(now: 16 * Self.ms, into: &spans)
        #expect(spans.count == 4)
        #expect(Set(spans.map(\.traceID)).count == 1, "one trace")
        let curl = try #require(spans.first { $0.pid == 1 })
        let nginxIn = try #require(spans.first { $0.pid == 2 && $0.kind == .server })
        let nginxOut = try #require(spans.first { $0.pid == 2 && $0.kind == .client })
        let python = try #require(spans.first { $0.pid == 3 })
        #expect(curl.parentSpanID == nil)
        #expect(nginxIn.parentSpanID == curl.spanID)
        #expect(nginxOut.parentSpanID == nginxIn.spanID)
        #expect(python.parentSpanID == nginxOut.spanID)
    }

    /// An event loop serving many identical requests at once forwards them in the order it read them.
    @Test func identicalRequestsThroughAnEventLoopProxyEachStayInTheirOwnTrace() throws {
        var tracker = makeTracker()
        let count = 50
        var fronts: [Hop] = [], backs: [Hop] = []
        var events: [CaptureEvent] = []
        for i in 0..<count {
            let front = Hop(clientPID: 1, clientPort: UInt16(41000 + i), serverPID: 2, serverPort: 8080, fd: Int32(100 + 2 * i))
            let back = Hop(clientPID: 2, clientPort: UInt16(42000 + i), serverPID: 3, serverPort: 9090, fd: Int32(300 + 2 * i))
            fronts.append(front)
            backs.append(back)
            events += front.opened(at: 0) + back.opened(at: 0)
        }
        let t0 = 10 * Self.ms
        for i in 0..<count {
            let t = t0 + UInt64(i) * 1000
            events += [fronts[i].client.write(Self.request("/same"), at: t), fronts[i].server.read(Self.request("/same"), at: t + 1, tid: 2)]
        }
        for i in 0..<count {
            let t = t0 + Self.ms + UInt64(i) * 1000
            events += [backs[i].client.write(Self.request("/same"), at: t, tid: 2), backs[i].server.read(Self.request("/same"), at: t + 1)]
        }
        for i in (0..<count).reversed() {
            let t = t0 + 2 * Self.ms + UInt64(count - i) * 1000
            events += [backs[i].server.write(Self.response, at: t), backs[i].client.read(Self.response, at: t + 1, tid: 2)]
            events += [fronts[i].server.write(Self.response, at: t + 2, tid: 2), fronts[i].client.read(Self.response, at: t + 3)]
        }
        var spans = tracker.run(events)
        tracker.advance(now: t0 + 10 * Self.ms, into: &spans)
        #expect(spans.count == 4 * count)
        let traces = Dictionary(grouping: spans, by: \.traceID)
        #expect(traces.count == count)
        for (_, members) in traces {
            #expect(members.count == 4 && Set(members.map(\.pid)) == [1, 2, 3])
            #expect(members.filter { $0.parentSpanID == nil }.count == 1)
            let ports = Set(members.map { $0.kind == .client ? $0.local.port : $0.peer.port })
            #expect(ports.count == 2 && ports.contains { $0 >= 41000 && $0 < 42000 }, "one front and one back connection")
            let index = Int(ports.first { $0 < 42000 }! - 41000)
            #expect(ports.contains(UInt16(42000 + index)), "front \(index) forwarded on back \(index)")
        }
    }

    @Test func aThreadPerRequestServerParentsItsCallsToOtherPathsByThread() throws {
        var tracker = makeTracker()
        let front = Hop(clientPID: 1, clientPort: 40020, serverPID: 2, serverPort: 8080)
        let call = Hop(clientPID: 2, clientPort: 40021, serverPID: 3, serverPort: 9090, fd: 20)
        let spans = tracker.run(front.opened(at: 0) + call.opened(at: 0) + [
            front.client.write(Self.request("/order"), at: 1 * Self.ms),
            front.server.read(Self.request("/order"), at: 2 * Self.ms, tid: 21),
            call.client.write(Self.request("/stock/7"), at: 3 * Self.ms, tid: 21),
            call.server.read(Self.request("/stock/7"), at: 4 * Self.ms),
            call.server.write(Self.response, at: 5 * Self.ms),
            call.client.read(Self.response, at: 6 * Self.ms, tid: 21),
            front.server.write(Self.response, at: 7 * Self.ms, tid: 21),
            front.client.read(Self.response, at: 8 * Self.ms),
        ])
        #expect(spans.count == 4 && Set(spans.map(\.traceID)).count == 1)
        let served = try #require(spans.first { $0.pid == 2 && $0.kind == .server })
        let made = try #require(spans.first { $0.pid == 2 && $0.kind == .client })
        #expect(made.parentSpanID == served.spanID)
    }

    @Test func anEventLoopThreadServingTwoRequestsSaysNothingAboutItsCalls() throws {
        var tracker = makeTracker()
        let a = Hop(clientPID: 1, clientPort: 40030, serverPID: 2, serverPort: 8080)
        let b = Hop(clientPID: 1, clientPort: 40031, serverPID: 2, serverPort: 8080, fd: 30)
        let call = Hop(clientPID: 2, clientPort: 40032, serverPID: 3, serverPort: 9090, fd: 40)
        let spans = tracker.run(a.opened(at: 0) + b.opened(at: 0) + call.opened(at: 0) + [
            a.client.write(Self.request("/a"), at: 1 * Self.ms), a.server.read(Self.request("/a"), at: 2 * Self.ms, tid: 5),
            b.client.write(Self.request("/b"), at: 3 * Self.ms), b.server.read(Self.request("/b"), at: 4 * Self.ms, tid: 5),
            call.client.write(Self.request("/c"), at: 5 * Self.ms, tid: 5), call.server.read(Self.request("/c"), at: 6 * Self.ms),
            call.server.write(Self.response, at: 7 * Self.ms), call.client.read(Self.response, at: 8 * Self.ms, tid: 5),
        ])
        let made = try #require(spans.first { $0.pid == 2 && $0.kind == .client })
        #expect(made.parentSpanID == nil, "no guess between two requests on one thread")
    }

    @Test func anIncomingTraceparentIsContinuedAndAnOutgoingOneKept() throws {
        var tracker = makeTracker()
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let hop = Hop(clientPID: 1, clientPort: 40040, serverPID: 2, serverPort: 8080)
        let spans = tracker.run(hop.opened(at: 0) + [
            hop.client.write(Self.request("/t", traceparent: incoming), at: 1 * Self.ms),
            hop.server.read(Self.request("/t", traceparent: incoming), at: 2 * Self.ms),
            hop.server.write(Self.response, at: 3 * Self.ms),
            hop.client.read(Self.response, at: 4 * Self.ms),
        ])
        let client = try #require(spans.first { $0.kind == .client })
        let server = try #require(spans.first { $0.kind == .server })
        #expect(client.traceID.hex == "4bf92f3577b34da6a3ce929d0e0e4736" && client.parentSpanID?.hex == "00f067aa0ba902b7")
        #expect(server.traceID == client.traceID && server.parentSpanID == client.spanID)
        #expect(client.incoming?.sampled == true)
    }

    @Test func aConnectionSpanRelayIsTheParentOfWhatItsServerReads() throws {
        // nginx(2) → haproxy(3, TCP only) → python(4)
        var configuration = ConnectionTrackerConfiguration()
        configuration.protocolsByPID = [2: [.http, .tcp], 3: [.tcp], 4: [.http, .tcp]]
        var tracker = makeTracker(configuration)
        let inbound = Hop(clientPID: 2, clientPort: 40050, serverPID: 3, serverPort: 8002)
        let outbound = Hop(clientPID: 3, clientPort: 40051, serverPID: 4, serverPort: 8003, fd: 20)
        var spans = tracker.run(inbound.opened(at: 0) + [
            inbound.client.write(Self.request("/relay"), at: 1 * Self.ms),
            inbound.server.read(Self.request("/relay"), at: 2 * Self.ms),
        ] + outbound.opened(at: 3 * Self.ms) + [
            outbound.server.read(Self.request("/relay"), at: 4 * Self.ms),
            outbound.client.write(Self.request("/relay"), at: 4 * Self.ms),
            outbound.server.write(Self.response, at: 5 * Self.ms),
            outbound.client.read(Self.response, at: 6 * Self.ms),
            inbound.server.write(Self.response, at: 6 * Self.ms),
            inbound.client.read(Self.response, at: 7 * Self.ms),
            outbound.client.closed(at: 8 * Self.ms), outbound.server.closed(at: 8 * Self.ms),
            inbound.server.closed(at: 9 * Self.ms), inbound.client.closed(at: 9 * Self.ms),
        ])
        tracker.advance(now: 10 * Self.ms, into: &spans)
        #expect(spans.count == 4 && Set(spans.map(\.traceID)).count == 1)
        let nginx = try #require(spans.first { $0.pid == 2 })
        let relayIn = try #require(spans.first { $0.pid == 3 && $0.kind == .server })
        let relayOut = try #require(spans.first { $0.pid == 3 && $0.kind == .client })
        let python = try #require(spans.first { $0.pid == 4 })
        #expect(relayIn.tcp != nil && relayOut.tcp != nil)
        #expect(relayIn.parentSpanID == nginx.spanID)
        #expect(relayOut.parentSpanID == relayIn.spanID)
        #expect(python.parentSpanID == relayOut.spanID)
        #expect(tracker.linker.hops.isEmpty && tracker.linker.servers.isEmpty && tracker.linker.threads.isEmpty, "nothing remembered")
    }

    @Test func memoryFollowsRequestsInFlightNotTheirNumber() {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40060, serverPID: 2, serverPort: 8080)
        var spans = tracker.run(hop.opened(at: 0))
        var t: UInt64 = Self.ms
        for i in 0..<5000 {
            let events = [
                hop.client.write(Self.request("/k/\(i % 7)"), at: t), hop.server.read(Self.request("/k/\(i % 7)"), at: t + 1),
                hop.server.write(Self.response, at: t + 2), hop.client.read(Self.response, at: t + 3),
            ]
            for event in events { tracker.handle(event, into: &spans) }
            t += 10
        }
        #expect(spans.count == 10000)
        #expect(tracker.linker.counters.requestsInFlight == 0)
        #expect(tracker.linker.servers.isEmpty && tracker.linker.threads.isEmpty)
        #expect(tracker.linker.hops.allValues.allSatisfy { $0.published.isEmpty && $0.waiting.isEmpty })
    }

    @Test func aSampledOutRootPassesItsDecisionToEveryHop() throws {
        var configuration = ConnectionTrackerConfiguration()
        configuration.sampler = .parentBasedAlwaysOff
        var tracker = makeTracker(configuration)
        let hop = Hop(clientPID: 1, clientPort: 40070, serverPID: 2, serverPort: 8080)
        let spans = tracker.run(hop.opened(at: 0) + [
            hop.client.write(Self.request("/s"), at: 1 * Self.ms), hop.server.read(Self.request("/s"), at: 2 * Self.ms),
            hop.server.write(Self.response, at: 3 * Self.ms), hop.client.read(Self.response, at: 4 * Self.ms),
        ])
        let server = try #require(spans.first { $0.kind == .server })
        #expect(server.incoming?.sampled == false)
        var pipeline = SpanPipeline(policy: Policy())
        if case .kept = pipeline.decide(server) { Issue.record("the server follows its caller's decision") }
    }

    /// Each end reads the clock at its own syscall's end: the server's read can return before
    /// the client's write does, and the client's read before the server's write. The server
    /// span is kept inside its caller's.
    @Test(arguments: [false, true])
    func aServerSpanStaysInsideItsCallerAcrossClockReadings(readBeforeWrite: Bool) throws {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40080, serverPID: 2, serverPort: 8080)
        let write = hop.client.write(Self.request("/in"), at: 100_000)
        let read = hop.server.read(Self.request("/in"), at: 90_000)
        var spans = tracker.run(hop.opened(at: 0) + (readBeforeWrite ? [read, write] : [write, read]) + [
            hop.client.read(Self.response, at: 200_000), hop.server.write(Self.response, at: 205_000),
        ])
        tracker.advance(now: 1_000_000, into: &spans)
        let server = try #require(spans.first { $0.kind == .server })
        let client = try #require(spans.first { $0.kind == .client })
        #expect(server.parentSpanID == client.spanID)
        #expect(client.startTimeUnixNano <= server.startTimeUnixNano && server.endTimeUnixNano <= client.endTimeUnixNano)
    }
}
