import Testing
@testable import PeriscopeCore

/// Connection spans, garbage, fd reuse, limits and shutdown.
@Suite struct ConnectionTrackerLifecycleTests {
    let ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    @Test func nonHTTPConnectionIsOneTCPSpanWithExactByteCounts() {
        let c = Connection(local: SocketAddress(ipv4: 10, 0, 0, 1, port: 5432))
        var tracker = makeTracker()
        var spans = tracker.run([
            c.opened(.server, at: 1_000),
            c.read(bytes: [0, 0, 0, 8, 4, 210, 22, 47], at: 2_000),
            c.write("N", at: 3_000),
            c.read(bytes: [0x00, 0x00, 0x01, 0x00], at: 4_000, total: 70_000),
            c.write(bytes: [0x52, 0, 0, 0, 8], at: 5_000, total: 123_456),
        ])
        #expect(spans.isEmpty)
        spans = tracker.handle(c.closed(at: 6_000))
        #expect(spans.count == 1)
        let span = spans.first
        #expect(span?.name == "tcp")
        #expect(span?.kind == .server)
        #expect(span?.startTimeUnixNano == unix(1_000))
        #expect(span?.endTimeUnixNano == unix(6_000))
        #expect(span?.tcp == TCPDetails(bytesSent: 123_457, bytesReceived: 70_008))
        #expect(span?.http == nil)
        #expect(tracker.counters.decodeErrors == 0)
    }

    @Test(arguments: [(ConnectionRole.server, Span.Kind.server), (.client, .client)])
    func connectionWithoutDataIsATCPSpanOfItsRole(role: ConnectionRole, kind: Span.Kind) {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([c.opened(role, at: 1), c.closed(at: 2)])
        #expect(spans.map(\.kind) == [kind])
        #expect(spans.first?.tcp == TCPDetails(bytesSent: 0, bytesReceived: 0))
    }

    @Test func preExistingNonHTTPConnectionIsInternal() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([c.write("PING\r\n", at: 5), c.read("+PONG\r\n", at: 6), c.closed(at: 7)])
        #expect(spans.map(\.kind) == [.internal])
        #expect(spans.first?.startTimeUnixNano == unix(5))
        #expect(spans.first?.tcp == TCPDetails(bytesSent: 6, bytesReceived: 7))
    }

    @Test func garbageAnsweredWithHTTPIsADecodeErrorAndATCPSpan() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read(bytes: [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00], at: 2),
            c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", at: 3),
            c.closed(at: 4),
        ])
        #expect(tracker.counters.decodeErrors == 1)
        #expect(spans.map(\.name) == ["tcp"])
        #expect(spans.first?.tcp?.bytesReceived == 7)
    }

    @Test func garbageAfterExchangesIsADecodeErrorAndKeepsTheSpansFound() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /fine HTTP/1.1\r\n\r\n", at: 2),
            c.write(ok, at: 3),
            c.read(bytes: [0x00, 0xff, 0x13, 0x37] + Array("GET / HTTP/1.1\r\n\r\n".utf8), at: 4),
            c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", at: 5),
            c.read("GET /ignored HTTP/1.1\r\n\r\n", at: 6),
            c.closed(at: 7),
        ])
        #expect(spans.map(\.http?.path) == ["/fine"])
        #expect(tracker.counters.decodeErrors == 1)
    }

    @Test func responseToAPipelinedRequestStillCompletesAfterRequestGarbage() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /a HTTP/1.1\r\n\r\nBROKEN\u{1}\r\n", at: 2),
            c.write(ok, at: 3),
        ])
        #expect(spans.map(\.http?.path) == ["/a"])
        #expect(tracker.counters.decodeErrors == 1)
    }

    @Test func responseBeforeAnyRequestOnAnAcceptedConnectionIsADecodeError() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([c.opened(.server, at: 1), c.write(ok, at: 2), c.read("GET / HTTP/1.1\r\n\r\n", at: 3), c.closed(at: 4)])
        #expect(tracker.counters.decodeErrors == 1)
        #expect(spans.map(\.name) == ["tcp"])
    }

    @Test func outOfSyncResponseEndsWithItsLastWriteAtClose() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /big HTTP/1.1\r\n\r\n", at: 2),
            c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nab", at: 3, total: 5000),
            c.write("more", at: 4, total: 3000),
            c.closed(at: 9),
        ])
        #expect(spans.count == 1)
        #expect(spans.first?.status == .unset)
        #expect(spans.first?.endTimeUnixNano == unix(4))
        #expect(tracker.counters.lostSync == 1)
    }

    @Test func fdReuseIsSeenThroughTheSocketID() {
        var first = Connection(socketID: 1)
        first.peer = SocketAddress(ipv4: 10, 0, 0, 3, port: 1111)
        var second = Connection(socketID: 2)
        second.peer = SocketAddress(ipv4: 10, 0, 0, 4, port: 2222)
        var tracker = makeTracker()
        var spans = tracker.run([
            first.opened(.server, at: 1),
            first.read("hello", at: 2),
            first.write("world!", at: 3),
        ])
        #expect(spans.isEmpty)
        spans = tracker.handle(second.read("GET / HTTP/1.1\r\n\r\n", at: 10))
        #expect(spans.map(\.name) == ["tcp"])
        #expect(spans.first?.peer == first.peer)
        #expect(spans.first?.endTimeUnixNano == unix(3))
        #expect(spans.first?.tcp == TCPDetails(bytesSent: 6, bytesReceived: 5))
        spans = tracker.handle(second.write(ok, at: 11))
        #expect(spans.map(\.kind) == [.server])
        #expect(spans.first?.peer == second.peer)
        #expect(tracker.counters.openConnections == 1)
    }

    @Test func reopenedFdFinishesTheConnectionWhoseCloseWasMissed() {
        let c = Connection()
        var reused = Connection(socketID: 2)
        reused.local.port = 40001
        var tracker = makeTracker()
        let spans = tracker.run([c.opened(.client, at: 1), c.write("x", at: 2), reused.opened(.client, at: 3)])
        #expect(spans.map(\.tcp) == [TCPDetails(bytesSent: 1, bytesReceived: 0)])
        #expect(tracker.counters.openConnections == 1)
    }

    @Test func processExitFinishesEveryConnectionOfThatProcessOnly() {
        let a = Connection(pid: 100, fd: 5), b = Connection(pid: 100, fd: 6), other = Connection(pid: 200, fd: 5)
        var tracker = makeTracker()
        var spans = tracker.run([
            a.opened(.server, at: 1), b.opened(.client, at: 2), other.opened(.server, at: 3),
            b.write("GET /pending HTTP/1.1\r\n\r\n", at: 4),
        ])
        spans = tracker.handle(a.exited(at: 9))
        #expect(spans.map(\.name) == ["tcp", "GET"])
        #expect(spans.map(\.endTimeUnixNano) == [unix(9), unix(9)])
        #expect(spans.last?.statusMessage == ConnectionEndReason.processExited)
        #expect(tracker.counters.openConnections == 1)
        #expect(tracker.counters.spansEmitted == 2)
    }

    @Test func protocolsChooseWhatIsDecoded() {
        let c = Connection()
        let exchange = [c.opened(.server, at: 1), c.read("GET / HTTP/1.1\r\n\r\n", at: 2), c.write(ok, at: 3), c.closed(at: 4)]
        let garbage = [c.opened(.server, at: 1), c.read("\u{1}\u{2}", at: 2), c.closed(at: 4)]

        var tcpOnly = makeTracker(ConnectionTrackerConfiguration(protocols: [.tcp]))
        #expect(tcpOnly.run(exchange).map(\.name) == ["tcp"])
        var httpOnly = makeTracker(ConnectionTrackerConfiguration(protocols: [.http]))
        #expect(httpOnly.run(exchange).map(\.name) == ["GET"])
        #expect(httpOnly.run(garbage).isEmpty)
        var none = makeTracker(ConnectionTrackerConfiguration(protocols: []))
        #expect(none.run(exchange).isEmpty)
        #expect(none.counters.openConnections == 0)
    }

    @Test func aProcessWithItsOwnDecodersGetsThemAndKeepsThemPerConnection() {
        let proxy = Connection(pid: 200), server = Connection(pid: 300)
        func exchange(_ c: Connection, at t: UInt64) -> [CaptureEvent] {
            [c.opened(.server, at: t), c.read("GET / HTTP/1.1\r\n\r\n", at: t + 1), c.write(ok, at: t + 2), c.closed(at: t + 3)]
        }
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocolsByPID: [200: [.tcp]]))
        #expect(tracker.run(exchange(proxy, at: 1)).map(\.name) == ["tcp"])
        #expect(tracker.run(exchange(server, at: 1)).map(\.name) == ["GET"])

        _ = tracker.handle(proxy.opened(.server, at: 10))
        tracker.configuration.protocolsByPID = [:]
        #expect(tracker.run(Array(exchange(proxy, at: 10).dropFirst())).map(\.name) == ["tcp"], "decided when the connection opened")
        #expect(tracker.run(exchange(proxy, at: 20)).map(\.name) == ["GET"])
    }

    @Test func leastRecentlyActiveConnectionIsEvictedAtTheLimit() {
        var tracker = makeTracker(ConnectionTrackerConfiguration(maxConnections: 2))
        let a = Connection(fd: 1), b = Connection(fd: 2), c = Connection(fd: 3)
        let spans = tracker.run([
            a.opened(.server, at: 1), b.opened(.server, at: 2), a.read("x", at: 3), c.opened(.server, at: 4),
        ])
        #expect(spans.isEmpty)
        #expect(tracker.counters.connectionsEvicted == 1)
        #expect(tracker.counters.openConnections == 2)
        #expect(tracker.handle(b.closed(at: 5)).isEmpty, "b was evicted")
        #expect(tracker.handle(a.closed(at: 5)).count == 1)
    }

    /// A client connection last active at 200 (fd 2) and a server one at 5,000 (fd 1).
    private func trackerWithAnIdleAndABusyConnection() -> ConnectionTracker {
        let busy = Connection(fd: 1), idle = Connection(fd: 2)
        var tracker = makeTracker()
        _ = tracker.run([
            idle.opened(.client, at: 100), idle.write("GET / HTTP/1.1\r\n\r\n", at: 200),
            busy.opened(.server, at: 150), busy.read("x", at: 5_000),
        ])
        return tracker
    }

    @Test func idleConnectionsExpireAtTheirLastActivity() {
        var tracker = trackerWithAnIdleAndABusyConnection()
        let spans = tracker.expireIdle(now: 6_000, idleNanos: 2_000)
        #expect(spans.map(\.name) == ["GET"])
        #expect(spans.first?.endTimeUnixNano == unix(200))
        #expect(spans.first?.statusMessage == ConnectionEndReason.idle)
        #expect(tracker.counters.openConnections == 1)
    }

    @Test func idleConnectionsListsWhatExpiryWouldAskAbout() {
        let tracker = trackerWithAnIdleAndABusyConnection()
        let idle = Connection(fd: 2)
        let listed = tracker.idleConnections(now: 6_000, idleNanos: 2_000)
        #expect(listed.map(\.fd) == [2])
        #expect(listed.map(\.pid) == [idle.pid])
        #expect(tracker.idleConnections(now: 1_000, idleNanos: 2_000).isEmpty)
    }

    /// A socket found gone at expiry whose last exchange and close were still queued: read
    /// before expiry, they end the connection with that exchange, and nothing is left to expire.
    @Test func anExchangeQueuedBeforeExpiryIsNotCutOff() {
        let connection = Connection(fd: 2)
        var tracker = makeTracker()
        var spans = tracker.run([
            connection.opened(.client, at: 100), connection.write("GET /a HTTP/1.1\r\n\r\n", at: 200),
            connection.read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 300),
        ])
        #expect(spans.count == 1)
        let gone = tracker.idleConnections(now: 10_000, idleNanos: 2_000)
        #expect(gone.map(\.fd) == [2])
        spans = tracker.run([
            connection.write("GET /b HTTP/1.1\r\n\r\n", at: 9_000),
            connection.read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 9_100),
            connection.closed(at: 9_200),
        ])
        #expect(spans.map(\.name) == ["GET"])
        #expect(spans.first?.endTimeUnixNano == unix(9_100))
        #expect(tracker.expireIdle(now: 10_000, idleNanos: 2_000) { pid, fd in
            !gone.contains { $0.pid == pid && $0.fd == fd }
        }.isEmpty)
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func finishAllEndsEveryConnectionWithTheReason() {
        let a = Connection(fd: 1), b = Connection(pid: 300, fd: 1)
        var tracker = makeTracker()
        _ = tracker.run([a.opened(.server, at: 1), a.read("GET / HTTP/1.1\r\n\r\n", at: 2), b.opened(.client, at: 3)])
        let spans = tracker.finishAll(at: 10, reason: "agent stopped")
        #expect(spans.map(\.name) == ["GET", "tcp"])
        #expect(spans.map(\.endTimeUnixNano) == [unix(10), unix(10)])
        #expect(spans.first?.statusMessage == "agent stopped")
        #expect(spans.first?.status == .error)
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func clockMappingIsAppliedWhenSpansAreBuilt() {
        let c = Connection()
        var tracker = makeTracker()
        tracker.clock = ClockMapping(monotonicNanos: 1_000, unixNanos: 1_000_001_000)
        let spans = tracker.run([c.opened(.server, at: 2_000), c.closed(at: 3_000)])
        #expect(spans.first?.startTimeUnixNano == 1_000_002_000)
        #expect(spans.first?.durationNanos == 1_000)
    }

    /// Ruby's Net::HTTP and hiredis call connect() again on a socket already connected (the
    /// non-blocking pattern): nothing new opens.
    @Test func connectAgainOnAConnectedSocketOpensNothingNew() {
        var client = Connection()
        client.local = SocketAddress(ipv4: 127, 0, 0, 1, port: 40100)
        client.peer = SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)
        var tracker = makeTracker()
        let spans = tracker.run([
            client.opened(.client, at: 1), client.opened(.client, at: 2),
            client.write("GET / HTTP/1.1\r\n\r\n", at: 3), client.read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 4),
            client.closed(at: 5),
        ])
        #expect(spans.map(\.kind) == [.client] && spans.first?.http?.statusCode == 200)
        #expect(tracker.counters.openConnections == 0)
    }
}
