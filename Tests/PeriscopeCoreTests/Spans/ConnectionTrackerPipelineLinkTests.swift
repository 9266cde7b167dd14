import Testing
@testable import PeriscopeCore

/// Both ends of one connection traced on this node, the client pipelining at once after
/// connect: its requests are seen before the server's accept (a Redis benchmark's first
/// batch, HTTP/1 pipelines), and each server request still gets its own caller.
@Suite struct ConnectionTrackerPipelineLinkTests {
    @Test func pipelineWrittenBeforeTheServerAcceptIsSeenLinksEveryRequestInOrder() {
        let clientAddress = SocketAddress(ipv4: 127, 0, 0, 1, port: 40000)
        let serverAddress = SocketAddress(ipv4: 127, 0, 0, 1, port: 6379)
        let client = Connection(pid: 10, fd: 5, socketID: 1, local: clientAddress, peer: serverAddress)
        let server = Connection(pid: 20, fd: 8, socketID: 2, local: serverAddress, peer: clientAddress)
        let requests = ["GET /a HTTP/1.1\r\n\r\n", "GET /b HTTP/1.1\r\n\r\n", "GET /c HTTP/1.1\r\n\r\n"]
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        var tracker = makeTracker()
        var spans = tracker.run([
            client.opened(.client, at: 1_000),
            client.write(requests.joined(), at: 2_000),
            server.opened(.server, at: 2_500),
            server.read(requests.joined(), at: 3_000),
            server.write(String(repeating: answer, count: 3), at: 4_000),
            client.read(String(repeating: answer, count: 3), at: 5_000),
        ])
        tracker.advance(now: 10_000_000_000, into: &spans)
        let clients = spans.filter { $0.kind == .client }, servers = spans.filter { $0.kind == .server }
        #expect(clients.map { $0.http?.target } == ["/a", "/b", "/c"])
        #expect(servers.map { $0.http?.target } == ["/a", "/b", "/c"])
        #expect(servers.map(\.parentSpanID) == clients.map(\.spanID), "each server request the child of its own client request")
        #expect(servers.map(\.traceID) == clients.map(\.traceID))
    }
}
