import Testing
@testable import PeriscopeCore

/// The protocol decoder reads heads where they lie and keeps their fields as bytes: what
/// it reports is what the same exchanges read as strings would give, however the bytes
/// are cut.
@Suite struct HTTP1ReadInPlaceTests {
    /// One exchange through a fresh decoder, the request cut at `split` (nil: whole), the
    /// response whole (what follows a tunnel's head is the tunnel's, as it was cut).
    static func decode(_ request: String, _ response: String, split: Int? = nil, keepQuery: Bool = false) -> [ProtocolOutput] {
        var decoder = HTTP1ProtocolDecoder(configuration: ProtocolConfiguration(keepQuery: keepQuery))
        var output: [ProtocolOutput] = []
        var clock: UInt64 = 1_000
        for (stream, text) in [(MessageStream.requests, request), (.responses, response)] {
            let bytes = Array(text.utf8)
            let cut = stream == .requests ? min(split ?? bytes.count, bytes.count) : bytes.count
            clock += 1_000  // both parts of a message at one time: the cut changes nothing else
            for part in [bytes[..<cut], bytes[cut...]] where !part.isEmpty {
                decoder.receive(ProtocolSegment(stream: stream, bytes: part, timestamp: clock, tid: 7), into: &output)
            }
        }
        decoder.finish(at: clock + 1_000, reason: "closed", into: &output)
        return output
    }

    static let requests = [
        "GET /users/42?x=1#frag HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5\r\n"
            + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n",
        "POST http://proxy.example/p/q?y=2 HTTP/1.0\r\nhost: a\r\nContent-Length: 3\r\n\r\nabc",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "PURGE http://h?only=query HTTP/1.1\r\nUSER-AGENT:  spaced out  \r\nHost: first\r\nHost: second\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "GET /\u{e9}t\u{e9}?q=\u{e9} HTTP/1.1\r\nHost: \u{e9}\r\ntraceparent: garbage\r\n\r\n",
    ]
    static let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    /// The details read in place equal details built from the strings of the same request.
    @Test(arguments: requests, [false, true])
    func detailsReadInPlaceAreThoseOfTheRequestsStrings(request: String, keepQuery: Bool) throws {
        let operation = try #require(Self.decode(request, Self.response, keepQuery: keepQuery).operations.first)
        var heads = HTTP1Decoder(kind: .request)
        let head = try #require(heads.decode(Array(request.utf8)).heads.first)
        let target = try #require(head.target)
        let expected = HTTPDetails(
            method: try #require(head.method), path: HTTP1RequestTarget(target).path(keepingQuery: keepQuery), target: target,
            statusCode: 200, protocolVersion: head.version, requestBodySize: head.contentLength ?? 0,
            responseBodySize: request.hasPrefix("CONNECT") ? 0 : 2, host: head.host, userAgent: head.userAgent, traceparent: head.traceparent
        )
        #expect(operation.http == expected)
        #expect(operation.http?.path == expected.path)
        #expect(operation.http?.host == head.host)
        #expect(operation.name == head.method)
        #expect(operation.traceContext == head.traceparent.flatMap { TraceContext(traceparent: $0) })
        #expect(operation.requestDigest == SpanLinkHints.digest(method: try #require(head.method), target: target))
    }

    /// Cut anywhere, a request gives what it gives whole (the whole head read in one pass,
    /// a cut one line by line).
    @Test(arguments: requests)
    func operationsDoNotDependOnWhereHeadsAreCut(request: String) {
        let whole = Self.decode(request, Self.response)
        #expect(!whole.operations.isEmpty)
        for split in 1..<request.utf8.count {
            #expect(Self.decode(request, Self.response, split: split) == whole, "split at \(split)")
        }
    }

    /// A `101` names the first protocol its `Upgrade` lists, or, without one, the request's.
    @Test(arguments: [
        ("Upgrade: , H2C, websocket\r\n", "Upgrade: websocket\r\n", "h2c"),
        ("", "Upgrade: WebSocket\r\nUpgrade: h2c\r\n", "websocket"),
        ("", "", nil),
    ] as [(String, String, String?)])
    func switchingProtocolsNamesTheProtocol(responseUpgrade: String, requestUpgrade: String, expected: String?) throws {
        let request = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\(requestUpgrade)\r\n"
        let response = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\(responseUpgrade)\r\n"
        let upgrades = Self.decode(request, response).compactMap { if case .upgraded(let upgrade) = $0 { upgrade } else { nil } }
        let upgrade = try #require(upgrades.first)
        #expect(upgrade.protocolName == expected)
        #expect(upgrade.operation?.http?.method == "GET")
    }

    /// Many pipelined requests awaiting their responses keep their fields apart.
    @Test func pipelinedRequestsKeepTheirOwnFields() {
        var decoder = HTTP1ProtocolDecoder()
        var output: [ProtocolOutput] = []
        let count = 200
        let requests = (0..<count).map { "GET /item/\($0)?\(String(repeating: "q", count: $0 * 7)) HTTP/1.1\r\nHost: h\($0)\r\n\r\n" }
        decoder.receive(ProtocolSegment(stream: .requests, bytes: Array(requests.joined().utf8)[...], timestamp: 1, tid: 1), into: &output)
        for _ in 0..<count {
            decoder.receive(ProtocolSegment(stream: .responses, bytes: Array(Self.response.utf8)[...], timestamp: 2, tid: 1), into: &output)
        }
        #expect(output.operations.map(\.http?.path) == (0..<count).map { "/item/\($0)" })
        #expect(output.operations.map(\.http?.host) == (0..<count).map { "h\($0)" })
        #expect(decoder.pending.isEmpty)
    }

    /// Requests and responses interleaved so that the exchanges awaiting a response wrap
    /// around their ring and it grows while its oldest is not in its first slot: each
    /// response still answers its own request, a `HEAD`'s without a body.
    @Test func interleavedExchangesAnswerTheirOwnRequests() {
        var decoder = HTTP1ProtocolDecoder()
        var output: [ProtocolOutput] = []
        var clock: UInt64 = 0
        var sent = 0
        var expected: [String] = []
        func send(_ count: Int) {
            for _ in 0..<count {
                let method = sent % 3 == 1 ? "HEAD" : "GET"
                expected.append("\(method) /r\(sent)")
                let request = "\(method) /r\(sent) HTTP/1.1\r\nHost: h\r\n\r\n"
                clock += 1
                decoder.receive(ProtocolSegment(stream: .requests, bytes: Array(request.utf8)[...], timestamp: clock, tid: 1), into: &output)
                sent += 1
            }
        }
        var answered = 0
        func answer(_ count: Int) {
            for _ in 0..<count {
                // A `HEAD` response says how long the body would be, and has none.
                let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + (expected[answered].hasPrefix("HEAD") ? "" : "ok")
                clock += 1
                decoder.receive(ProtocolSegment(stream: .responses, bytes: Array(response.utf8)[...], timestamp: clock, tid: 1), into: &output)
                answered += 1
            }
        }
        for (requests, responses) in [(2, 1), (1, 1), (3, 2), (1, 0), (4, 5), (2, 3), (0, 1)] {
            send(requests)
            answer(responses)
        }
        #expect(answered == sent)
        #expect(output.operations.map { "\($0.name) \($0.http?.path ?? "")" } == expected)
        #expect(output.operations.map(\.http?.responseBodySize) == expected.map { $0.hasPrefix("HEAD") ? 0 : 2 })
        #expect(output.operations.map(\.exchangeID) == (0..<UInt64(sent)).map { $0 })
        #expect(decoder.pending.isEmpty)
    }

    @Test func detailsDropTheirQueryInPlace() {
        var details = HTTPDetails(method: "GET", path: "/a?b", target: "/a?b#c")
        details.removeQuery()
        #expect(details.path == "/a")
        #expect(details.target == "/a")
        details.path = "/set"
        details.host = "h"
        #expect(details == HTTPDetails(method: "GET", path: "/set", target: "/a", host: "h"))
        #expect(details != HTTPDetails(method: "GET", path: "/set", target: "/a", host: "x"))
    }
}
