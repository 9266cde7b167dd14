@testable import PeriscopeCore
import Testing

/// A connection that starts as HTTP/1.1 and switches to HTTP/2 with `Upgrade: h2c`, through
/// the tracker: the request that asked for the switch is stream 1, answered in HTTP/2.
@Suite struct HTTP2UpgradeTests {
    /// The recorded hypercorn and curl `--http2` conversation, seen by the server or the client.
    static func spans(of fixture: H2Fixture, role: ConnectionRole, protocols: Set<TracedProtocol> = [.http]) -> (spans: [Span], decodeErrors: Int) {
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocols: protocols))
        let connection = Connection()
        var spans = tracker.handle(connection.opened(role, at: 1))
        for chunk in fixture.chunks {
            let sentByTracedEnd = (chunk.stream == .requests) == (role == .client)
            let event = sentByTracedEnd
                ? connection.write(bytes: chunk.bytes, at: 10 + chunk.timestamp)
                : connection.read(bytes: chunk.bytes, at: 10 + chunk.timestamp)
            spans += tracker.handle(event)
        }
        spans += tracker.handle(connection.closed(at: 20 + (fixture.chunks.last?.timestamp ?? 0)))
        spans += tracker.finishAll(at: 30 + (fixture.chunks.last?.timestamp ?? 0), reason: "stopping")
        return (spans, tracker.counters.decodeErrors)
    }

    @Test(arguments: [ConnectionRole.server, .client])
    func upgradedRequestIsAnsweredAsStreamOne(role: ConnectionRole) throws {
        let fixture = try H2Fixture(name: "hypercorn-curl-upgrade-001.txt")
        let (spans, decodeErrors) = Self.spans(of: fixture, role: role)
        #expect(decodeErrors == 0)
        #expect(spans.count == 1, "one span for the upgraded request, none for the 101: \(spans.map(\.name))")
        let span = try #require(spans.first)
        #expect(span.kind == (role == .server ? .server : .client))
        #expect(span.http?.method == "GET" && span.http?.path == "/hello")
        #expect(span.http?.statusCode == 200 && span.http?.protocolVersion == "2")
        #expect(span.http?.responseBodySize == 21 && span.http?.userAgent == "curl/7.88.1")
        #expect(span.status == .unset)
        let firstRequestByte = 10 + fixture.chunks[0].timestamp
        #expect(span.startTimeUnixNano == unix(firstRequestByte))
    }

    /// With an `Upgrade` token no enabled protocol takes, the `101` exchange is a span of its
    /// own and what follows one span named after the protocol, nothing in it decoded.
    @Test func switchToAnUnknownProtocolKeepsTheSwitchingExchange() {
        var tracker = makeTracker()
        let connection = Connection()
        var spans = tracker.handle(connection.opened(.server, at: 1))
        spans += tracker.handle(connection.read("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", at: 10))
        spans += tracker.handle(connection.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{02}hi", at: 20))
        spans += tracker.handle(connection.read("\u{81}\u{82}abcdxy", at: 30))
        spans += tracker.handle(connection.closed(at: 40))
        #expect(spans.map(\.name) == ["GET", "websocket"])
        #expect(spans.first?.http?.statusCode == 101 && spans.first?.http?.protocolVersion == "1.1")
        #expect(tracker.counters.decodeErrors == 0)
    }

    /// A switch after earlier HTTP/1.1 exchanges on the same connection: each exchange
    /// keeps its own span.
    @Test func h2cAfterEarlierHTTP1ExchangesKeepsExchangeIDsApart() throws {
        var tracker = makeTracker()
        let connection = Connection()
        let fixture = try H2Fixture(name: "hypercorn-curl-upgrade-001.txt")
        var spans = tracker.handle(connection.opened(.server, at: 1))
        spans += tracker.handle(connection.read("GET /first HTTP/1.1\r\nHost: a\r\n\r\n", at: 2))
        spans += tracker.handle(connection.write("HTTP/1.1 204 No Content\r\n\r\n", at: 3))
        for chunk in fixture.chunks {
            let event = chunk.stream == .requests
                ? connection.read(bytes: chunk.bytes, at: 10 + chunk.timestamp)
                : connection.write(bytes: chunk.bytes, at: 10 + chunk.timestamp)
            spans += tracker.handle(event)
        }
        spans += tracker.handle(connection.closed(at: 20 + (fixture.chunks.last?.timestamp ?? 0)))
        #expect(spans.map { "\($0.http?.path ?? "?") \($0.http?.statusCode ?? 0) \($0.http?.protocolVersion ?? "?")" } == [
            "/first 204 1.1", "/hello 200 2",
        ])
    }
}
