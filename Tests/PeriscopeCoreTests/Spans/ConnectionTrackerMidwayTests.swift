import Testing
@testable import PeriscopeCore

/// A decoder that starts on a connection's first bytes knows what its beginning set up; one
/// that joins midway (the connection was open before tracing, or requests were shed) does not.
@Suite struct ConnectionTrackerMidwayTests {
    let get = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    let reply = "$1\r\nv\r\n"

    func namespaces(opened: Bool) -> [String?] {
        let c = Connection(local: SocketAddress(ipv4: 10, 0, 0, 1, port: 40000), peer: SocketAddress(ipv4: 10, 0, 0, 2, port: 6379))
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocols: [.redis]))
        let spans = tracker.run((opened ? [c.opened(.client, at: 1)] : []) + [c.write(get, at: 2), c.read(reply, at: 3), c.closed(at: 4)])
        return spans.map { span in
            span.protocolAttributes.first { $0.key == "db.namespace" }.map { attribute in
                if case .string(let value) = attribute.value { value } else { "?" }
            }
        }
    }

    @Test func redisConnectionSeenFromItsStartIsOnDatabaseZero() {
        #expect(namespaces(opened: true) == ["0"])
    }

    @Test func redisConnectionJoinedMidwayHasNoNamespace() {
        #expect(namespaces(opened: false) == [nil], "a SELECT may have gone unseen")
    }
    /// HTTP/2 frames read alike both ways: a client seen midway whose first captured bytes are
    /// the server's answers is still the client, told by the `:status` its header blocks open with.
    @Test(arguments: [true, false])
    func http2ClientSeenMidwayFromItsReadsIsTheClient(readFirst: Bool) {
        let c = Connection(local: SocketAddress(ipv4: 10, 0, 0, 1, port: 40000), peer: SocketAddress(ipv4: 10, 0, 0, 2, port: 8443))
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocols: [.http]))
        // `:method GET`, `:scheme http`, `:path /`, `:authority` named from the static table; `:status 200` indexed.
        let request = H2.headers(7, block: H2.block([.index(2), .index(6), .index(4), .named(1, "example.com")]), endStream: true)
        let answer = H2.headers(7, block: H2.block([.index(8)])) + H2.data(7, size: 3, endStream: true)
        let earlier = H2.headers(5, block: H2.block([.index(8)])) + H2.data(5, size: 3, endStream: true)
        let events = (readFirst ? [c.read(bytes: earlier, at: 2)] : [])
            + [c.write(bytes: request, at: 3), c.read(bytes: answer, at: 4), c.closed(at: 5)]
        let spans = tracker.run(events)
        #expect(spans.count == 1)
        #expect(spans.first?.kind == .client)
        #expect(spans.first?.http?.method == "GET" && spans.first?.http?.statusCode == 200 && spans.first?.http?.responseBodySize == 3)
    }
    /// Capture resumed on an HTTP/2 connection after the kernel shed part of it: the stream
    /// in flight ends as shed, the HPACK tables are unknown from there, a request made of the
    /// static table and literals gives its span, one that needs an entry inserted unseen is
    /// counted and gives none.
    @Test func http2ResumedAfterSheddingDecodesWhatTheStaticTableAndLiteralsSay() {
        let c = Connection()
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocols: [.http]))
        // `:authority` inserted into the client's table (62), then used by index.
        let first = H2.headers(1, block: H2.block([.index(2), .index(6), .index(4), .named(1, "example.com", indexed: true)]), endStream: true)
        var spans = tracker.run([
            c.opened(.server, at: 1),
            c.read(bytes: H2.preface + H2.settings() + first, at: 2),
        ])
        var resumed = c.read(bytes: H2.headers(3, block: H2.block([.index(2), .index(6), .index(5), .index(62)]), endStream: true)
            + H2.headers(5, block: H2.block([.index(2), .index(6), .index(63), .index(62)]), endStream: true), at: 10)
        resumed.resumedAfterShedding = true
        spans += tracker.run([
            resumed,
            c.write(bytes: H2.headers(3, block: H2.block([.index(8)])) + H2.data(3, size: 4, endStream: true), at: 11),
            c.closed(at: 12),
        ])
        #expect(spans.map { "\($0.http?.method ?? "?") \($0.http?.path ?? "?") \($0.http?.statusCode ?? 0) \($0.statusMessage ?? "")" } == [
            "GET / 0 \(ConnectionEndReason.shed)", "GET /index.html 200 ",
        ])
        #expect(spans.allSatisfy { $0.kind == .server })
        #expect(tracker.counters.decodeErrors == 1, "stream 5's :path was an entry never seen")
    }
}
