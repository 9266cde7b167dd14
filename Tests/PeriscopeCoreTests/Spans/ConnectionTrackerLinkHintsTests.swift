import Testing
@testable import PeriscopeCore

@Suite struct ConnectionTrackerLinkHintsTests {
    let request = "GET /r/7 HTTP/1.1\r\nHost: a\r\n\r\n"
    let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test func serverSpanExpectsAParentWhenTheOtherEndIsTracedOnThisNode() throws {
        let client = Connection(pid: 1, fd: 3, socketID: 1, local: Hop.address(40000), peer: Hop.address(8080))
        let server = Connection(pid: 2, fd: 5, socketID: 2, local: Hop.address(8080), peer: Hop.address(40000))
        let stranger = Connection(pid: 2, fd: 6, socketID: 3, local: Hop.address(8080), peer: SocketAddress(ipv4: 10, 0, 0, 9, port: 40000))
        var tracker = makeTracker()
        let spans = tracker.run([
            client.opened(.client, at: 1), server.opened(.server, at: 2), stranger.opened(.server, at: 2),
            client.write(request, at: 3), server.read(request, at: 4), server.write(response, at: 5),
            stranger.read(request, at: 6), stranger.write(response, at: 7),
            client.read(response, at: 8),
        ])
        #expect(spans.map(\.kind) == [.server, .server, .client])
        #expect(spans[0].link.parentMayFollow, "curl's socket is tracked")
        #expect(!spans[1].link.parentMayFollow, "the peer is on another host")
        #expect(!spans[2].link.parentMayFollow, "curl serves nothing")
        #expect(Set(spans.map(\.link.requestDigest)) == [SpanLinkHints.digest(method: "GET", target: "/r/7")])
    }

    @Test func clientSpanOfAServingProcessExpectsAParent() throws {
        let inbound = Connection(pid: 2, fd: 5, socketID: 2, local: Hop.address(8080), peer: Hop.address(40000))
        let outbound = Connection(pid: 2, fd: 6, socketID: 3, local: Hop.address(40001), peer: Hop.address(9090))
        var tracker = makeTracker()
        let spans = tracker.run([
            inbound.opened(.server, at: 1), inbound.read(request, at: 2),
            outbound.opened(.client, at: 3), outbound.write(request, at: 4), outbound.read(response, at: 5),
        ])
        let span = try #require(spans.first)
        #expect(span.kind == .client && span.link.parentMayFollow)
    }

    @Test func serverSpanExpectsChildrenOnlyWhileItsProcessHasOtherConnectionsOpen() throws {
        let inbound = Connection(pid: 2, fd: 5, socketID: 2, local: Hop.address(8080), peer: Hop.address(40000))
        let outbound = Connection(pid: 2, fd: 6, socketID: 3, local: Hop.address(40001), peer: Hop.address(9090))
        var tracker = makeTracker()
        let alone = tracker.run([inbound.opened(.server, at: 1), inbound.read(request, at: 2), inbound.write(response, at: 3)])
        #expect(alone.map(\.kind) == [.server] && !alone[0].link.childMayFollow, "no call of its own is open")
        let calling = tracker.run([
            outbound.opened(.client, at: 4), inbound.read(request, at: 5), outbound.write(request, at: 6),
            outbound.read(response, at: 7), inbound.write(response, at: 8),
        ])
        #expect(calling.map(\.kind) == [.client, .server])
        #expect(calling[0].link.childMayFollow, "client spans always may have children")
        #expect(calling[1].link.childMayFollow, "the outgoing connection is still open")
        let after = tracker.run([outbound.closed(at: 9), inbound.read(request, at: 10), inbound.write(response, at: 11)])
        #expect(after.map(\.kind) == [.server] && !after[0].link.childMayFollow)
    }

    @Test func connectionSpanDigestsItsFirstBytes() throws {
        let relay = Connection(pid: 3, fd: 5, socketID: 2, local: Hop.address(8080), peer: Hop.address(40000))
        var tracker = makeTracker()
        let spans = tracker.run([
            relay.opened(.server, at: 1), relay.read(bytes: [0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5], at: 2), relay.closed(at: 3),
        ])
        let span = try #require(spans.first)
        #expect(span.tcp != nil)
        #expect(span.link.requestDigest == SpanLinkHints.digest(leadingBytes: [0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]))
        #expect(tracker.endpoints.isEmpty && tracker.serving.isEmpty)
    }
}
