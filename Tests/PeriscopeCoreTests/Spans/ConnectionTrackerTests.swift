import Testing
@testable import PeriscopeCore

@Suite struct ConnectionTrackerTests {
    let request = "GET /users/42?debug=1 HTTP/1.1\r\nHost: api.local\r\nUser-Agent: curl/8.5.0\r\n\r\n"
    let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"

    @Test func serverExchangeIsTimedFromFirstRequestByteToLastResponseByte() throws {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1_000),
            c.read(request, at: 2_000, tid: 11),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", at: 3_000, tid: 12),
            c.write("hello", at: 4_000, tid: 12),
        ])
        let span = try #require(spans.first)
        #expect(spans.count == 1)
        #expect(span.kind == .server)
        #expect(span.name == "GET")
        #expect(span.startTimeUnixNano == unix(2_000))
        #expect(span.endTimeUnixNano == unix(4_000))
        #expect(span.status == .unset)
        #expect(span.statusMessage == nil)
        #expect(span.pid == 100)
        #expect(span.tid == 11)
        #expect(span.local == c.local)
        #expect(span.peer == c.peer)
        #expect(span.parentSpanID == nil)
        #expect(span.tcp == nil)
        #expect(span.http == HTTPDetails(
            method: "GET", path: "/users/42", target: "/users/42?debug=1", statusCode: 200, protocolVersion: "1.1",
            requestBodySize: 0, responseBodySize: 5, host: "api.local", userAgent: "curl/8.5.0"
        ))
        #expect(tracker.counters.spansEmitted == 1)
        #expect(tracker.handle(c.closed(at: 5_000)).isEmpty, "an HTTP connection gives no connection span")
        #expect(tracker.counters.openConnections == 0)
    }

    /// Every way of splitting the request and the response into two reads or writes gives
    /// the same span, on an accepted connection and on one that existed before tracing.
    @Test(arguments: [true, false])
    func everyByteSplitOfARequestResponsePairYieldsTheSameSpan(accepted: Bool) {
        let c = Connection()
        let requestBytes = Array(request.utf8), responseBytes = Array(response.utf8)
        func spans(requestSplit: Int?, responseSplit: Int?) -> [Span] {
            var tracker = makeTracker()
            var events = accepted ? [c.opened(.server, at: 1_000)] : []
            if let split = requestSplit {
                events += [c.read(bytes: Array(requestBytes[..<split]), at: 2_000), c.read(bytes: Array(requestBytes[split...]), at: 2_001)]
            } else {
                events.append(c.read(bytes: requestBytes, at: 2_000))
            }
            if let split = responseSplit {
                events += [c.write(bytes: Array(responseBytes[..<split]), at: 3_000), c.write(bytes: Array(responseBytes[split...]), at: 3_001)]
            } else {
                events.append(c.write(bytes: responseBytes, at: 3_001))
            }
            events.append(c.closed(at: 4_000))
            #expect(tracker.counters.decodeErrors == 0)
            return tracker.run(events)
        }
        let expected = spans(requestSplit: nil, responseSplit: nil)
        #expect(expected.count == 1)
        #expect(expected.first?.http?.statusCode == 200)
        #expect(expected.first?.kind == .server)
        for split in 1..<requestBytes.count {
            #expect(spans(requestSplit: split, responseSplit: nil) == expected, "request split at \(split)")
        }
        for split in 1..<responseBytes.count {
            #expect(spans(requestSplit: nil, responseSplit: split) == expected, "response split at \(split)")
        }
    }

    @Test func decodesPipelinedRequestsAcrossPartialReads() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1_000),
            c.read("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\nab", at: 2_000, tid: 1),
            c.read("cdHEAD /c HTTP/1.1\r\n\r\nGET /d HT", at: 2_100, tid: 2),
            c.read("TP/1.1\r\n\r\n", at: 2_200, tid: 3),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", at: 3_000),
            c.write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 503 Busy\r\n", at: 3_100),
            c.write("Content-Length: 2\r\n\r\nno", at: 3_200),
        ])
        #expect(spans.map(\.http?.path) == ["/a", "/b", "/c", "/d"])
        #expect(spans.map(\.http?.statusCode) == [200, 201, 200, 503])
        #expect(spans.map(\.http?.requestBodySize) == [0, 4, 0, 0])
        #expect(spans.map(\.http?.responseBodySize) == [1, 0, 0, 2])
        #expect(spans.map(\.startTimeUnixNano) == [unix(2_000), unix(2_000), unix(2_100), unix(2_100)])
        #expect(spans.map(\.endTimeUnixNano) == [unix(3_000), unix(3_100), unix(3_100), unix(3_200)])
        #expect(spans.map(\.tid) == [1, 1, 2, 2])
        #expect(spans.map(\.status) == [.unset, .unset, .unset, .error])
    }

    @Test(arguments: [(200, Span.Status.unset, Span.Status.unset), (404, .unset, .error), (500, .error, .error), (302, .unset, .unset)])
    func statusFollowsTheSpanKind(code: Int, server: Span.Status, client: Span.Status) {
        for role in [ConnectionRole.server, .client] {
            let c = Connection()
            var tracker = makeTracker()
            let outgoing = role == .client
            let spans = tracker.run([
                c.opened(role, at: 1),
                outgoing ? c.write("GET / HTTP/1.1\r\n\r\n", at: 2) : c.read("GET / HTTP/1.1\r\n\r\n", at: 2),
                outgoing ? c.read("HTTP/1.1 \(code) X\r\nContent-Length: 0\r\n\r\n", at: 3)
                    : c.write("HTTP/1.1 \(code) X\r\nContent-Length: 0\r\n\r\n", at: 3),
            ])
            #expect(spans.map(\.kind) == [outgoing ? .client : .server])
            #expect(spans.map(\.status) == [outgoing ? client : server], "\(role) \(code)")
        }
    }

    @Test func clientSpanRunsFromFirstRequestByteWrittenToLastResponseByteRead() {
        let c = Connection(local: SocketAddress(ipv4: 10, 0, 0, 2, port: 40000), peer: SocketAddress(ipv4: 10, 0, 0, 9, port: 80))
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.client, at: 10),
            c.write("POST /orders HTTP/1.1\r\nContent-Length: 3\r\n\r\n", at: 20, tid: 5),
            c.write("abc", at: 25, tid: 6),
            c.read("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", at: 30),
            c.read("0\r\n\r\n", at: 40),
        ])
        #expect(spans.count == 1)
        #expect(spans.first?.kind == .client)
        #expect(spans.first?.tid == 5)
        #expect(spans.first?.startTimeUnixNano == unix(20))
        #expect(spans.first?.endTimeUnixNano == unix(40))
        #expect(spans.first?.http?.requestBodySize == 3)
        #expect(spans.first?.http?.responseBodySize == 3)
    }

    @Test func headRequestResponseHasNoBodyAndTheConnectionStaysInSync() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("HEAD /file HTTP/1.1\r\n\r\n", at: 2),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n", at: 3),
            c.read("GET /file HTTP/1.1\r\n\r\n", at: 4),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndata", at: 5),
        ])
        #expect(spans.map(\.name) == ["HEAD", "GET"])
        #expect(spans.map(\.http?.responseBodySize) == [0, 4])
        #expect(spans.map(\.endTimeUnixNano) == [unix(3), unix(5)])
        #expect(tracker.counters.decodeErrors == 0)
    }

    @Test(arguments: [204, 304])
    func responsesWithoutBodyEndAtTheirHead(code: Int) {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET / HTTP/1.1\r\n\r\n", at: 2),
            c.write("HTTP/1.1 \(code) X\r\nETag: \"a\"\r\n\r\n", at: 3),
        ])
        #expect(spans.map(\.http?.statusCode) == [code])
        #expect(spans.first?.endTimeUnixNano == unix(3))
    }

    @Test func continueIsSkippedUntilTheFinalResponse() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("PUT /upload HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n", at: 2),
            c.write("HTTP/1.1 100 Continue\r\n\r\n", at: 3),
            c.read("123456", at: 4),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", at: 5),
        ])
        #expect(spans.count == 1)
        #expect(spans.first?.http?.statusCode == 200)
        #expect(spans.first?.http?.requestBodySize == 6)
        #expect(spans.first?.endTimeUnixNano == unix(5))
    }

    @Test func switchingProtocolsEndsTheExchangeAndTheConnectionGoesOnAsOneSpan() {
        let c = Connection()
        var tracker = makeTracker()
        var spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", at: 2),
            c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", at: 3),
            c.read(bytes: [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], at: 4),
            c.write(bytes: [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], at: 5),
        ])
        #expect(spans.map(\.http?.statusCode) == [101])
        #expect(spans.first?.endTimeUnixNano == unix(3))
        #expect(spans.first?.status == .unset)
        let exchange = spans.first
        spans = tracker.handle(c.closed(at: 6))
        #expect(spans.map(\.name) == ["websocket"])
        #expect(spans.first?.parentSpanID == exchange?.spanID)
        #expect(spans.first?.tcp == TCPDetails(bytesSent: 7, bytesReceived: 11))
        #expect(tracker.counters.decodeErrors == 0)
    }

    @Test func responseWithoutFramingEndsWithItsLastByteAtClose() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /stream HTTP/1.0\r\n\r\n", at: 2),
            c.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst ", at: 3),
            c.write("second", at: 4, total: 1000),
            c.closed(at: 9),
        ])
        #expect(spans.count == 1)
        #expect(spans.first?.status == .unset)
        #expect(spans.first?.endTimeUnixNano == unix(4))
        #expect(spans.first?.http?.responseBodySize == 1006)
        #expect(spans.first?.http?.protocolVersion == "1.0")
    }

    @Test(arguments: [
        (CaptureEvent.Kind.closed, ConnectionEndReason.closed),
        (.processExited, ConnectionEndReason.processExited),
    ])
    func requestWithoutCompleteResponseBecomesAnErrorSpan(ending: CaptureEvent.Kind, reason: String) {
        let c = Connection()
        var tracker = makeTracker()
        let end = ending == .closed ? c.closed(at: 50) : c.exited(at: 50)
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /slow HTTP/1.1\r\n\r\n", at: 2),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart", at: 3),
            end,
        ])
        #expect(spans.count == 1)
        #expect(spans.first?.status == .error)
        #expect(spans.first?.statusMessage == reason)
        #expect(spans.first?.http?.statusCode == 200)
        #expect(spans.first?.startTimeUnixNano == unix(2))
        #expect(spans.first?.endTimeUnixNano == unix(50))
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func gapInsideContentLengthBodyIsCountedExactly() {
        let c = Connection()
        var tracker = makeTracker()
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
        let requestHead = "POST /upload HTTP/1.1\r\nContent-Length: 70000\r\n\r\n"
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read(requestHead + "xyz", at: 2, total: requestHead.utf8.count + 65536),
            c.read("tail", at: 3, total: 70000 - 65536),
            c.write(head + "abc", at: 4, total: head.utf8.count + 65536),
            c.event(.data(.egress), at: 5, total: 100000 - 65536),
            c.read("GET /next HTTP/1.1\r\n\r\n", at: 6),
        ])
        #expect(spans.count == 1)
        #expect(spans.first?.http?.requestBodySize == 70000)
        #expect(spans.first?.http?.responseBodySize == 100000)
        #expect(spans.first?.endTimeUnixNano == unix(5))
        #expect(tracker.counters.lostSync == 0)
    }

    @Test func gapInsideAHeadKeepsTheCapturedPartAndRecovers() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET /cart?id=9 HTTP/1.1\r\nHost: shop\r\nCookie: session=abcdef", at: 2, total: 6000),
            c.write("HTTP/1.1 200 OK\r\nSet-Cookie: a=b", at: 3, total: 9000),
            c.write("more of the body", at: 4, total: 20000),
            c.read("GET /next HTTP/1.1\r\n\r\n", at: 5),
            c.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", at: 6),
        ])
        #expect(spans.map(\.http?.path) == ["/cart", "/next"])
        #expect(spans.map(\.http?.host) == ["shop", nil])
        #expect(spans.map(\.http?.statusCode) == [200, 404])
        // The out-of-sync response ends with its last write, when the next request shows it is over.
        #expect(spans.map(\.endTimeUnixNano) == [unix(4), unix(6)])
        #expect(tracker.counters.lostSync == 2)
        #expect(tracker.counters.decodeErrors == 0)
    }

    @Test(arguments: [
        (Direction.ingress, "GET / HTTP/1.1\r\n\r\n", Span.Kind.server),
        (.egress, "GET / HTTP/1.1\r\n\r\n", .client),
    ])
    func preExistingConnectionRoleIsInferredFromTheFirstRequest(direction: Direction, text: String, kind: Span.Kind) {
        let c = Connection()
        var tracker = makeTracker()
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        let spans = tracker.run(direction == .ingress
            ? [c.read(text, at: 2), c.write(reply, at: 3)]
            : [c.write(text, at: 2), c.read(reply, at: 3)])
        #expect(spans.map(\.kind) == [kind])
        #expect(spans.first?.startTimeUnixNano == unix(2))
    }

    @Test func preExistingConnectionSeenFirstAnsweringIsAClient() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.read("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend", at: 2),
            c.write("GET /again HTTP/1.1\r\n\r\n", at: 3),
            c.read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 4),
        ])
        #expect(spans.map(\.kind) == [.client])
        #expect(spans.map(\.http?.path) == ["/again"])
        #expect(tracker.counters.decodeErrors == 0)
    }

    @Test func validTraceparentIsContinued() {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1),
            c.read("GET / HTTP/1.1\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n", at: 2),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 3),
            c.read("GET / HTTP/1.1\r\ntraceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n\r\n", at: 4),
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 5),
        ])
        #expect(spans.count == 2)
        #expect(spans[0].traceID.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(spans[0].parentSpanID?.hex == "00f067aa0ba902b7")
        #expect(spans[0].http?.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(spans[0].spanID.hex != "00f067aa0ba902b7")
        #expect(spans[1].parentSpanID == nil, "an all-zero trace id is invalid")
        #expect(spans[1].traceID.hex != "00000000000000000000000000000000")
    }

    @Test(arguments: [
        (false, "http://example.com:8080/a/b?x=1", "/a/b"),
        (true, "http://example.com:8080/a/b?x=1", "/a/b?x=1"),
        (false, "/search?q=secret#frag", "/search"),
        (true, "/search?q=secret", "/search?q=secret"),
    ])
    func pathKeepsTheQueryOnlyWhenConfigured(keepQuery: Bool, target: String, path: String) {
        let c = Connection()
        var tracker = makeTracker(ConnectionTrackerConfiguration(keepQuery: keepQuery))
        let spans = tracker.run([
            c.opened(.client, at: 1),
            c.write("GET \(target) HTTP/1.1\r\n\r\n", at: 2),
            c.read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", at: 3),
        ])
        #expect(spans.first?.http?.path == path)
        #expect(spans.first?.http?.target == target)
    }
}
