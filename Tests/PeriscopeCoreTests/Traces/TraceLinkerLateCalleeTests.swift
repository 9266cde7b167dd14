import Testing
@testable import PeriscopeCore

/// A client's first request on a new connection, written before the server's end of it is
/// seen (the server's accept returns after the client's write on a busy node, and a proxy
/// opens a connection per request): the server span is still kept inside its caller's, and
/// nothing is kept for a callee that turns out not to be traced.
@Suite struct TraceLinkerLateCalleeTests {
    typealias Hop = TraceLinkerTests.Hop

    /// The client's read of the response returns before the server's write does (the writer
    /// is preempted at the end of its `write`), on a connection whose server end shows up
    /// after the client's request.
    @Test func aServerSeenAfterItsCallersFirstWriteStaysInsideIt() throws {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40090, serverPID: 2, serverPort: 8080)
        var spans = tracker.run([
            hop.client.opened(.client, at: 0),
            hop.client.write(TraceLinkerTests.request("/late"), at: 100_000),
            hop.server.opened(.server, at: 95_000),
            hop.server.read(TraceLinkerTests.request("/late"), at: 98_000),
            hop.client.read(TraceLinkerTests.response, at: 200_000),
            hop.server.write(TraceLinkerTests.response, at: 200_287),
        ])
        tracker.advance(now: 1_000_000, into: &spans)
        let server = try #require(spans.first { $0.kind == .server })
        let client = try #require(spans.first { $0.kind == .client })
        #expect(server.parentSpanID == client.spanID)
        #expect(client.startTimeUnixNano <= server.startTimeUnixNano && server.endTimeUnixNano <= client.endTimeUnixNano,
                "[\(server.startTimeUnixNano), \(server.endTimeUnixNano)] inside [\(client.startTimeUnixNano), \(client.endTimeUnixNano)]")
        #expect(tracker.linker.callers.isEmpty)
    }

    /// A request to a server that is not traced keeps nothing once it ended.
    @Test func aCallToAnUntracedServerKeepsNothing() throws {
        var tracker = makeTracker()
        let hop = Hop(clientPID: 1, clientPort: 40091, serverPID: 2, serverPort: 8080)
        let spans = tracker.run([
            hop.client.opened(.client, at: 0),
            hop.client.write(TraceLinkerTests.request("/alone"), at: 100_000),
            hop.client.read(TraceLinkerTests.response, at: 200_000),
        ])
        #expect(spans.count == 1 && spans.first?.kind == .client)
        #expect(tracker.linker.callers.isEmpty)
    }
}
