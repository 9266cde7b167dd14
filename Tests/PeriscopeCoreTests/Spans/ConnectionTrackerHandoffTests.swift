import Testing
@testable import PeriscopeCore

/// A connection belongs to whichever process reads and writes it: accepted by one process,
/// served by another (fork-per-connection servers, PostgreSQL's postmaster and its
/// backends, descriptors passed with SCM_RIGHTS), it stays one connection.
@Suite struct ConnectionTrackerHandoffTests {
    let request = "GET /orders HTTP/1.1\r\nHost: shop\r\n\r\n"
    let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test func forkedChildServesTheConnectionItsParentAccepted() {
        let parent = Connection(pid: 100, fd: 7)
        let child = Connection(pid: 200, fd: 7)
        var tracker = makeTracker()
        let spans = tracker.run([
            parent.opened(.server, at: 1_000),
            parent.closed(at: 2_000, stillOpen: true),
            child.read(request, at: 3_000),
            child.write(response, at: 4_000),
            child.closed(at: 5_000),
        ])
        #expect(spans.count == 1, "one exchange, no zero-byte span for the parent: \(spans.map(\.name))")
        #expect(spans.first?.kind == .server && spans.first?.pid == 200)
        #expect(spans.first?.http?.statusCode == 200)
        #expect(tracker.counters.connectionsHandedOff == 1 && tracker.counters.connectionsAdopted == 1)
        #expect(tracker.counters.openConnections == 0)
    }

    /// A client that connects and leaves without a byte (a TCP health check) against a
    /// forking server: the child reads only the end and exits, the connection waiting since
    /// the parent closed its descriptor is never used, and nothing comes out — least of all
    /// a span under the parent's pid — however it ends.
    @Test(arguments: [false, true])
    func aConnectionHandedOffAndNeverUsedGivesNoSpan(endsAtShutdown: Bool) {
        let parent = Connection(pid: 100, fd: 7)
        let child = Connection(pid: 200, fd: 7)
        var configuration = ConnectionTrackerConfiguration()
        configuration.protocols = [.http, .tcp]
        var tracker = makeTracker(configuration)
        var spans = tracker.run([
            parent.opened(.server, at: 1_000),
            parent.closed(at: 2_000, stillOpen: true),
            child.exited(at: 3_000),
        ])
        spans += endsAtShutdown
            ? tracker.finishAll(at: 10_000, reason: "agent stopped")
            : tracker.expireIdle(now: 100_000_000_000, idleNanos: 1_000)
        #expect(spans.isEmpty, "\(spans.map { "\($0.pid) \($0.name)" })")
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func childThatReadsBeforeItsParentClosesTakesTheConnection() {
        let parent = Connection(pid: 100, fd: 7)
        let child = Connection(pid: 200, fd: 7)
        var tracker = makeTracker()
        let spans = tracker.run([
            parent.opened(.server, at: 1_000),
            child.read(request, at: 2_000),
            parent.closed(at: 2_500, stillOpen: true),
            child.write(response, at: 3_000),
            child.exited(at: 4_000),
            parent.closed(at: 5_000),
        ])
        #expect(spans.map(\.pid) == [200])
        #expect(spans.first?.http?.statusCode == 200)
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func descriptorPassedWithSCMRightsMovesMidExchange() {
        let acceptor = Connection(pid: 100, fd: 9)
        let worker = Connection(pid: 300, fd: 12)
        var tracker = makeTracker()
        let spans = tracker.run([
            acceptor.opened(.server, at: 1_000),
            acceptor.read("GET /orders HTTP/1.1\r\n", at: 2_000),
            acceptor.closed(at: 2_500, stillOpen: true),
            worker.read("Host: shop\r\n\r\n", at: 3_000),
            worker.write(response, at: 4_000),
            worker.closed(at: 5_000),
        ])
        #expect(spans.count == 1, "the exchange is not split")
        #expect(spans.first?.pid == 300 && spans.first?.http?.target == "/orders")
        #expect(spans.first?.startTimeUnixNano == unix(2_000))
    }

    /// No byte moved: the connection stands for no exchange, and the parent only accepted it.
    @Test func socketClosedByItsLastHolderWithoutUseEndsWithoutASpan() {
        let parent = Connection(pid: 100, fd: 7)
        let child = Connection(pid: 200, fd: 7)
        var tracker = makeTracker()
        let spans = tracker.run([
            parent.opened(.server, at: 1_000),
            parent.closed(at: 2_000, stillOpen: true),
            child.closed(at: 3_000),
        ])
        #expect(spans.isEmpty, "no zero-byte span under the parent's pid: \(spans.map { "\($0.pid) \($0.name)" })")
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func parentReusingTheDescriptorDoesNotEndTheHandedOffConnection() {
        let parent = Connection(pid: 100, fd: 7, socketID: 1)
        let next = Connection(pid: 100, fd: 7, socketID: 2, peer: SocketAddress(ipv4: 10, 0, 0, 3, port: 40000))
        let child = Connection(pid: 200, fd: 7, socketID: 1)
        var tracker = makeTracker()
        var spans = tracker.run([
            parent.opened(.server, at: 1_000),
            parent.closed(at: 1_500, stillOpen: true),
            next.opened(.server, at: 2_000),
            child.read(request, at: 3_000),
            child.write(response, at: 4_000),
            child.closed(at: 5_000),
        ])
        #expect(spans.map(\.pid) == [200])
        #expect(tracker.counters.openConnections == 1)
        spans = tracker.finishAll(at: 6_000, reason: "stopped")
        #expect(spans.map(\.name) == ["tcp"])
    }

    @Test func reusedSocketAddressWithOtherEndsIsANewConnection() {
        let parent = Connection(pid: 100, fd: 7)
        let stranger = Connection(pid: 200, fd: 4, peer: SocketAddress(ipv4: 10, 0, 0, 9, port: 1234))
        var tracker = makeTracker()
        let spans = tracker.run([
            parent.opened(.server, at: 1_000),
            parent.closed(at: 2_000, stillOpen: true),
            stranger.write(request, at: 3_000),
            stranger.read(response, at: 4_000),
            stranger.closed(at: 5_000),
        ])
        #expect(spans.map(\.name) == ["GET"], "the parent's unused connection gives no span")
        #expect(tracker.counters.connectionsAdopted == 0)
        #expect(tracker.counters.openConnections == 0)
    }

    /// A forked child closing what it inherited with close_range(2) (CPython's
    /// subprocess, a daemon): the socket its parent still holds goes on; the one nobody
    /// else holds ends there.
    @Test func closeRangeHandsOffSocketsAnotherProcessStillHolds() {
        let served = Connection(pid: 100, fd: 7, socketID: 1)
        let own = Connection(pid: 100, fd: 9, socketID: 2, peer: SocketAddress(ipv4: 10, 0, 0, 3, port: 40000))
        let later = Connection(pid: 200, fd: 7, socketID: 1)
        var tracker = makeTracker()
        var closeRange = CaptureEvent(kind: .closedRange(last: .max), timestamp: 2_000, pid: 100, tid: 100, fd: 3)
        closeRange.descriptorsStillHeld = 1 << (7 - 3)
        var spans = tracker.run([
            served.opened(.server, at: 1_000),
            served.read("GET /orders HTTP/1.1\r\n", at: 1_500),
            own.opened(.client, at: 1_600),
            closeRange,
        ])
        #expect(spans.map(\.name) == ["tcp"], "only the socket nobody else holds ends")
        #expect(tracker.counters.connectionsHandedOff == 1)
        spans = tracker.run([
            later.read("Host: shop\r\n\r\n", at: 3_000),
            later.write(response, at: 4_000),
            later.closed(at: 5_000),
        ])
        #expect(spans.count == 1, "the exchange is not split")
        #expect(spans.first?.pid == 200 && spans.first?.http?.target == "/orders" && spans.first?.http?.statusCode == 200)
        #expect(spans.first?.startTimeUnixNano == unix(1_500))
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func handedOffConnectionNobodyUsesExpiresWhenIdle() {
        let parent = Connection(pid: 100, fd: 7)
        var tracker = makeTracker()
        _ = tracker.run([parent.opened(.server, at: 1_000), parent.closed(at: 2_000, stillOpen: true)])
        #expect(tracker.expireIdle(now: 5_000, idleNanos: 10_000).isEmpty)
        let spans = tracker.expireIdle(now: 20_000, idleNanos: 10_000)
        #expect(spans.isEmpty, "no byte moved: no span")
        #expect(tracker.counters.openConnections == 0)
    }
}

extension Connection {
    /// close(2) of this descriptor; `stillOpen`: other descriptors still hold the socket.
    func closed(at timestamp: UInt64, stillOpen: Bool) -> CaptureEvent {
        var event = closed(at: timestamp)
        event.socketStillOpen = stillOpen
        return event
    }
}
