@testable import PeriscopeCore
import Testing

/// Both ends of a recorded HTTP/2 connection through one tracker: each server stream is the
/// child of the client stream with the same id.
@Suite struct HTTP2LinkingTests {
    static let ms: UInt64 = 1_000_000

    /// h2load writes ten streams before nghttpd's accept is seen: each stream's context still
    /// reaches its own server request.
    @Test func streamsWrittenBeforeTheServerAcceptedAreEachLinked() throws {
        let fixture = try H2Fixture(name: "h2load-001.txt")
        let clientAddress = SocketAddress(ipv4: 127, 0, 0, 1, port: 41000)
        let serverAddress = SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)
        let client = Connection(pid: 1, fd: 10, socketID: 1, local: clientAddress, peer: serverAddress)
        let server = Connection(pid: 2, fd: 11, socketID: 2, local: serverAddress, peer: clientAddress)
        var tracker = makeTracker()
        var events = [client.opened(.client, at: 1)]
        for (index, chunk) in fixture.chunks.enumerated() {
            let at = 10 * Self.ms + chunk.timestamp
            if chunk.stream == .requests {
                events.append(client.write(bytes: chunk.bytes, at: at))
                if index == 0 { events.append(server.opened(.server, at: at + 1)) }
                events.append(server.read(bytes: chunk.bytes, at: at + 2))
            } else {
                events.append(server.write(bytes: chunk.bytes, at: at))
                events.append(client.read(bytes: chunk.bytes, at: at + 2))
            }
        }
        var spans = tracker.run(events)
        tracker.advance(now: 10_000 * Self.ms, into: &spans)
        spans += tracker.finishAll(at: 10_001 * Self.ms, reason: "stopping")
        let servers = spans.filter { $0.kind == .server }, clients = spans.filter { $0.kind == .client }
        #expect(servers.count == 50 && clients.count == 50)
        let unlinked = servers.filter { server in !clients.contains { $0.spanID == server.parentSpanID && $0.traceID == server.traceID } }
        #expect(unlinked.isEmpty, "\(unlinked.count) server streams without their client stream as parent")
    }
}
