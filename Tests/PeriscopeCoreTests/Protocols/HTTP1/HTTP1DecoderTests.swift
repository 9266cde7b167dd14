import Testing
@testable import PeriscopeCore

/// Feeds each chunk (captured bytes plus an optional gap) and collects all events.
func decodeAll(_ decoder: inout HTTP1Decoder, _ chunks: [(bytes: [UInt8], gap: Int)], finish: Bool = false) -> [HTTP1DecoderEvent] {
    var events: [HTTP1DecoderEvent] = []
    for chunk in chunks {
        events += decoder.decode(chunk.bytes)
        events += decoder.skip(chunk.gap)
    }
    if finish { events += decoder.finish() }
    return events
}

func decodeAll(_ kind: HTTP1Decoder.Kind, _ chunks: [String], methods: [String] = [], finish: Bool = false) -> [HTTP1DecoderEvent] {
    var decoder = HTTP1Decoder(kind: kind)
    decoder.pendingRequestMethods = methods.map(HTTP1Method.init)
    return decodeAll(&decoder, chunks.map { (Array($0.utf8), 0) }, finish: finish)
}

extension Array where Element == HTTP1DecoderEvent {
    var heads: [HTTP1MessageHead] {
        compactMap { if case .head(let head) = $0 { head } else { nil } }
    }
    /// Nil where a message's size was unknown.
    var bodySizes: [Int?] {
        compactMap { if case .messageEnd(let size) = $0 { .some(size) } else { nil } }
    }
    var errors: [HTTP1DecodeError.Code] {
        compactMap { if case .error(let error) = $0 { error.code } else { nil } }
    }
}

@Suite struct HTTP1DecoderTests {
    @Test func decodesRequestHeadersCaseInsensitively() {
        let events = decodeAll(.request, [
            "POST /items?id=3 HTTP/1.1\r\nhOsT: example.com\r\nUSER-AGENT: curl/8.5\r\n"
                + "TraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
                + "content-length: 5\r\nConnection: keep-alive\r\n\r\nhello",
        ])
        #expect(events.count == 3)
        let head = events.heads.first
        #expect(head?.method == "POST")
        #expect(head?.target == "/items?id=3")
        #expect(head?.version == "1.1")
        #expect(head?.host == "example.com")
        #expect(head?.userAgent == "curl/8.5")
        #expect(head?.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(head?.contentLength == 5)
        #expect(head?.connection == "keep-alive")
        #expect(events.bodySizes == [5])
    }

    @Test func decodesPipelinedRequestsAcrossPartialReads() {
        let stream = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            + "DELETE /c HTTP/1.0\r\n\r\n"
        let whole = decodeAll(.request, [stream])
        #expect(whole.heads.map(\.target) == ["/a", "/b", "/c"])
        #expect(whole.bodySizes == [0, 3, 0])
        #expect(whole.heads.last?.version == "1.0")
        let bytes = Array(stream.utf8)
        for (first, second) in [(5, 40), (27, 28), (60, 71), (1, 2), (70, 85)] {
            var decoder = HTTP1Decoder(kind: .request)
            let split = decodeAll(&decoder, [(Array(bytes[..<first]), 0), (Array(bytes[first..<second]), 0), (Array(bytes[second...]), 0)])
            #expect(split == whole, "split at \(first) and \(second)")
        }
    }

    static let splitMessages: [(kind: HTTP1Decoder.Kind, text: String)] = [
        (.request, "GET /users/42?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n"),
        (.request, "PUT /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n"),
        (.response, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"),
        (.response, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"),
    ]

    @Test(arguments: splitMessages)
    func everyByteSplitYieldsTheSameEvents(kind: HTTP1Decoder.Kind, text: String) {
        let bytes = Array(text.utf8)
        let whole = decodeAll(kind, [text])
        #expect(whole.errors.isEmpty)
        #expect(whole.last.map { if case .messageEnd = $0 { true } else { false } } == true)
        for split in 1..<bytes.count {
            var decoder = HTTP1Decoder(kind: kind)
            let events = decodeAll(&decoder, [(Array(bytes[..<split]), 0), (Array(bytes[split...]), 0)])
            #expect(events == whole, "split at \(split)")
        }
    }

    @Test func decodesChunkedBodyWithExtensionsAndTrailers() {
        let events = decodeAll(.response, [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "7;name=value;flag\r\nMozilla\r\n9 ; q=\"x\"\r\nDeveloper\r\n7\r\nNetwork\r\n0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\n"
                + "HTTP/1.1 204 No Content\r\n\r\n",
        ])
        #expect(events.errors.isEmpty)
        #expect(events.bodySizes == [23, 0])
        #expect(events.heads.map(\.statusCode) == [200, 204])
    }

    @Test func decodesChunkedBodySplitInsideTheSizeLine() {
        var decoder = HTTP1Decoder(kind: .response)
        let events = decodeAll(&decoder, [
            (Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1".utf8), 0),
            (Array("0;e".utf8), 0),
            (Array("xt\r".utf8), 0),
            (Array("\n0123456789abcdef\r\n0\r".utf8), 0),
            (Array("\n\r\n".utf8), 0),
        ])
        #expect(events.bodySizes == [16])
    }

    @Test func headResponseWithContentLengthHasNoBody() {
        let events = decodeAll(.response, [
            "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ], methods: ["HEAD", "GET"])
        #expect(events.errors.isEmpty)
        #expect(events.bodySizes == [0, 2])
    }

    @Test(arguments: [204, 304])
    func statusWithoutBodyEndsAtTheHead(status: Int) {
        let events = decodeAll(.response, [
            "HTTP/1.1 \(status) Nothing\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ], methods: ["GET", "GET"])
        #expect(events.heads.map(\.statusCode) == [status, 200])
        #expect(events.bodySizes == [0, 0])
    }

    @Test func continueIsFollowedByTheFinalResponse() {
        let events = decodeAll(.response, ["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"], methods: ["HEAD"])
        #expect(events.heads.map(\.statusCode) == [100, 200])
        // The interim response does not take the HEAD method: the final one does.
        #expect(events.bodySizes == [0, 0])
    }

    @Test func switchingProtocolsMakesTheStreamOpaque() {
        var decoder = HTTP1Decoder(kind: .response)
        let events = decodeAll(&decoder, [
            (Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{05}hello".utf8), 0),
            (Array("\u{0}\u{1}garbage".utf8), 100),
        ])
        #expect(events.count == 4)
        #expect(events.heads.map(\.statusCode) == [101])
        #expect(Array(events.suffix(2)) == [.messageEnd(bodySize: 0), .upgraded])
        #expect(decoder.isOpaque)
    }

    @Test func successfulConnectOpensATunnel() {
        let events = decodeAll(.response, ["HTTP/1.1 200 Connection established\r\n\r\n\u{16}\u{3}\u{1}"], methods: ["CONNECT"])
        #expect(events.bodySizes == [0])
        #expect(events.last == .upgraded)
    }

    @Test func responseWithoutFramingRunsUntilClose() {
        var decoder = HTTP1Decoder(kind: .response)
        var events = decodeAll(&decoder, [(Array("HTTP/1.0 200 OK\r\n\r\nsome".utf8), 0), (Array(" body".utf8), 20)])
        #expect(events.bodySizes.isEmpty)
        #expect(decoder.isInUnframedMessage)
        events = decoder.finish()
        #expect(events == [.messageEnd(bodySize: 29)])
    }

    @Test func closedMidResponseLeavesTheMessageIncomplete() {
        var decoder = HTTP1Decoder(kind: .response)
        let events = decodeAll(&decoder, [(Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".utf8), 0)], finish: true)
        #expect(events.bodySizes.isEmpty)
    }

    @Test func gapInsideContentLengthBodyIsCounted() {
        var decoder = HTTP1Decoder(kind: .response)
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
        let events = decodeAll(&decoder, [
            (Array((head + "0123456789").utf8), 2990),
            (Array("x".utf8), 1999),
            (Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8), 0),
        ])
        #expect(!events.contains(.lostSync))
        #expect(events.bodySizes == [5000, 0])
    }

    @Test func gapPastTheEndOfABodyLosesTheNextMessage() {
        var decoder = HTTP1Decoder(kind: .response)
        let events = decodeAll(&decoder, [
            (Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234".utf8), 50),
            (Array("more body of a lost response".utf8), 0),
            (Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8), 0),
        ])
        #expect(events.bodySizes == [10, 0])
        #expect(events.contains(.lostSync))
        #expect(events.contains(.resynchronized(previousMessageEnded: false, previousBodySize: nil)))
    }

    @Test func gapInsideAHeadKeepsWhatWasCapturedAndResynchronizes() {
        var decoder = HTTP1Decoder(kind: .request)
        let events = decodeAll(&decoder, [
            (Array("GET /search?q=a HTTP/1.1\r\nHost: shop\r\nUser-Agent: browser\r\nCookie: abc".utf8), 4000),
            (Array("GET /next HTTP/1.1\r\n\r\n".utf8), 0),
        ])
        let heads = events.heads
        #expect(heads.count == 2)
        #expect(heads.first?.target == "/search?q=a")
        #expect(heads.first?.host == "shop")
        #expect(heads.first?.userAgent == "browser")
        #expect(heads.first?.isComplete == false)
        #expect(heads.last?.isComplete == true)
        #expect(events.contains(.lostSync))
        #expect(events.contains(.resynchronized(previousMessageEnded: true, previousBodySize: 0)))
        #expect(events.bodySizes == [0])
    }

    @Test func gapInsideTheRequestLineKeepsMethodAndTargetPrefix() {
        var decoder = HTTP1Decoder(kind: .request)
        let events = decodeAll(&decoder, [(Array("GET /very/long/pa".utf8), 900)])
        #expect(events.heads.first?.method == "GET")
        #expect(events.heads.first?.target == "/very/long/pa")
    }

    /// Without the kernel's walk, the framing among the bytes not captured is not known: the
    /// body's size is reported unknown, not counted with its framing.
    @Test func gapAcrossChunkFramingLosesSyncAndTheBodySize() {
        var decoder = HTTP1Decoder(kind: .response)
        let events = decodeAll(&decoder, [
            (Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123".utf8), 12),
            (Array("\r\n".utf8), 0),
            (Array("5\r\nabcde\r\n".utf8), 400),
            (Array("trailing bytes".utf8), 0),
        ])
        #expect(events.filter { $0 == .lostSync }.count == 1)
        #expect(events.bodySizes.isEmpty)
        #expect(decoder.isInUnframedMessage)
        #expect(decoder.finish() == [.messageEnd(bodySize: nil)])
    }

    /// A head longer than the capture that says its body is chunked: the chunks after it go
    /// by out of sync, so the body's size is unknown rather than the bytes counted.
    @Test func gapInsideAChunkedHeadLeavesTheBodySizeUnknown() {
        var decoder = HTTP1Decoder(kind: .response)
        let events = decodeAll(&decoder, [
            (Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: abc".utf8), 900),
            (Array("5\r\nabcde\r\n0\r\n\r\n".utf8), 0),
            (Array("HTTP/1.1 204 No Content\r\n\r\n".utf8), 0),
        ])
        #expect(events.contains(.resynchronized(previousMessageEnded: true, previousBodySize: nil)))
        #expect(events.bodySizes == [0])
    }

    static let garbage: [(String, [UInt8], HTTP1DecodeError.Code)] = [
        ("TLS record", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], .invalidByte),
        ("text protocol", Array("EHLO mail.example.com\r\n".utf8), .invalidStartLine),
        ("no version", Array("GET /\r\n\r\n".utf8), .invalidStartLine),
        ("HTTP/2 preface", Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8), .invalidStartLine),
        ("NUL in header", Array("GET / HTTP/1.1\r\nX: a\u{0}b\r\n\r\n".utf8), .invalidByte),
        ("header without colon", Array("GET / HTTP/1.1\r\nnot a header\r\n\r\n".utf8), .invalidHeader),
        ("space before colon", Array("GET / HTTP/1.1\r\nHost : a\r\n\r\n".utf8), .invalidHeader),
        ("bad content length", Array("POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n".utf8), .invalidContentLength),
        ("conflicting content length", Array("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".utf8), .invalidContentLength),
        ("gzip-only request body", Array("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n".utf8), .unsupportedTransferEncoding),
        ("bad chunk size", Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8), .invalidChunk),
        ("chunk without CRLF", Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab".utf8), .invalidChunk),
        ("huge head", Array(("GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 17000)).utf8), .headTooLarge),
    ]

    @Test(arguments: garbage)
    func garbageIsADecodeError(name: String, bytes: [UInt8], code: HTTP1DecodeError.Code) {
        var decoder = HTTP1Decoder(kind: .request)
        let events = decodeAll(&decoder, [(bytes, 0), (Array("GET / HTTP/1.1\r\n\r\n".utf8), 0)])
        #expect(events.errors == [code], "\(name)")
        #expect(events.heads.count <= 1, "nothing after the error is decoded")
        #expect(decoder.isOpaque)
    }

    @Test func multipleIdenticalContentLengthsAreAccepted() {
        let events = decodeAll(.request, ["POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab"])
        #expect(events.bodySizes == [2])
    }

    @Test func leadingEmptyLinesBetweenRequestsAreIgnored() {
        let events = decodeAll(.request, ["GET / HTTP/1.1\r\n\r\n\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"])
        #expect(events.heads.count == 2)
        #expect(events.errors.isEmpty)
    }
}
