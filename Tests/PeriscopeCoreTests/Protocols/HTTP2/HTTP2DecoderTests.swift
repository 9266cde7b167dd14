import Testing
@testable import PeriscopeCore

@Suite struct HTTP2DecoderTests {
    @Test func decodesInterleavedStreamsInTheOrderTheyEnd() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings([(0x3, 100)]) + H2.request(1, "GET", "/a?x=1", extra: [("user-agent", "curl/8"), (
            "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        )]))
        h2.server(H2.settings() + H2.settingsAck)
        h2.client(H2.settingsAck + H2.request(3, "POST", "/b", extra: [("content-length", "5")], endStream: false))
        h2.client(H2.data(3, size: 5, endStream: true))
        h2.server(H2.response(3, status: 201) + H2.data(3, size: 2))
        h2.server(H2.response(1) + H2.data(1, size: 10))
        h2.server(H2.data(3, size: 0, endStream: true))
        h2.server(H2.data(1, size: 4, endStream: true))
        #expect(h2.errors == [])
        let operations = h2.operations
        #expect(operations.map(\.streamID) == [3, 1])
        let post = operations[0], get = operations[1]
        #expect(post.http == HTTPDetails(
            method: "POST", path: "/b", target: "/b", statusCode: 201, protocolVersion: "2",
            requestBodySize: 5, responseBodySize: 2, host: "example.com"
        ))
        #expect(post.start == 4_000 && post.end == 8_000 && post.tid == 7)
        #expect(get.http?.path == "/a" && get.http?.target == "/a?x=1" && get.http?.userAgent == "curl/8")
        #expect(get.http?.statusCode == 200 && get.http?.responseBodySize == 14 && get.http?.requestBodySize == 0)
        #expect(get.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(get.http?.traceparent == get.traceparent)
        #expect(get.start == 2_000 && get.end == 9_000)
        #expect(get.name == "GET" && get.status == .unset && get.attributes.isEmpty)
        #expect(get.requestDigest == SpanLinkHints.digest(method: "GET", target: "/a?x=1"))
        #expect(get.spanStatus(server: true) == .unset)
        // Each stream was announced when its request headers were read, under its id.
        #expect(h2.starts == [
            RequestStart(
                exchangeID: 1, timestamp: 2_000, tid: 7, requestDigest: get.requestDigest, traceparent: get.traceparent, streamID: 1
            ),
            RequestStart(exchangeID: 3, timestamp: 4_000, tid: 7, requestDigest: post.requestDigest, streamID: 3),
        ])
        #expect(operations.map(\.exchangeID) == [3, 1])
    }

    @Test func readsFramesSplitAtEveryByte() {
        var whole: [UInt8] = H2.preface + H2.settings()
        var responses: [UInt8] = H2.settings()
        for stream in stride(from: UInt32(1), through: 9, by: 2) {
            whole += H2.request(stream, "PUT", "/items/\(stream)", endStream: false) + H2.data(stream, size: Int(stream), endStream: true, padding: 3)
            responses += H2.response(stream, status: 200 + Int(stream)) + H2.data(stream, size: 100, endStream: true)
        }
        var h2 = H2Conversation()
        for byte in whole { h2.client([byte]) }
        for byte in responses { h2.server([byte]) }
        #expect(h2.errors == [])
        #expect(h2.operations.map { $0.http?.target } == ["/items/1", "/items/3", "/items/5", "/items/7", "/items/9"])
        #expect(h2.operations.map { $0.http?.requestBodySize } == [1, 3, 5, 7, 9])
        #expect(h2.operations.map { $0.http?.statusCode } == [201, 203, 205, 207, 209])
        #expect(h2.operations.allSatisfy { $0.http?.responseBodySize == 100 })
    }

    @Test func gathersHeaderBlocksAcrossContinuationFrames() {
        let block = H2.block([(":method", "GET"), (":path", "/continued"), (":scheme", "https"), (":authority", "a.example")])
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.frame(0x1, flags: 0x1 | 0x8 | 0x20, stream: 1, [2] + [0, 0, 0, 0, 16] + block.prefix(10) + [0, 0]))
        h2.client(H2.frame(0x9, stream: 1, Array(block[10..<20])))
        h2.client(H2.frame(0x9, flags: 0x4, stream: 1, Array(block[20...])))
        h2.server(H2.settings() + H2.response(1, endStream: true))
        #expect(h2.errors == [])
        #expect(h2.operations.map { $0.http?.path } == ["/continued"])
        #expect(h2.operations.first?.start == 2_000)
        #expect(h2.operations.first?.http?.host == "a.example")
    }

    @Test func aFrameBetweenHeadersAndContinuationLosesOnlyThatBlock() {
        var h2 = H2Conversation()
        let block = H2.block([(":method", "GET"), (":path", "/lost"), (":scheme", "http")])
        h2.client(H2.preface + H2.frame(0x1, flags: 0x1, stream: 1, Array(block.prefix(5))) + H2.ping() + H2.request(3, "GET", "/kept"))
        h2.server(H2.settings() + H2.response(3, endStream: true))
        #expect(h2.errors == ["expected_continuation"])
        #expect(h2.operations.map { $0.http?.path } == ["/kept"])
    }

    @Test func resetStreamsEndWithAnError() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "GET", "/slow") + H2.request(3, "GET", "/fast"))
        h2.client(H2.reset(1, code: 8))
        h2.server(H2.settings() + H2.response(3, endStream: true) + H2.reset(5, code: 0))
        let operations = h2.operations
        #expect(operations.count == 2)
        #expect(operations[0].http?.path == "/slow" && operations[0].status == .error)
        #expect(operations[0].statusMessage == "stream reset by the client (CANCEL)")
        #expect(operations[0].end == 3_000 && operations[0].http?.statusCode == nil)
        #expect(operations[1].http?.path == "/fast" && operations[1].status == .unset)
    }

    @Test func goAwayRefusesTheStreamsBeyondItsLastStream() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1) + H2.request(3) + H2.request(5))
        h2.server(H2.settings() + H2.goAway(lastStream: 3, code: 0) + H2.response(1, endStream: true))
        h2.server(H2.response(3, endStream: true))
        #expect(h2.operations.map(\.streamID) == [5, 1, 3])
        #expect(h2.operations[0].statusMessage == "refused by GOAWAY (NO_ERROR)" && h2.operations[0].status == .error)
        h2.finish()
        #expect(h2.operations.count == 3)
    }

    @Test func finishAbandonsStreamsInFlight() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "GET", "/a") + H2.request(3, "POST", "/b", endStream: false) + H2.data(3, size: 7))
        h2.server(H2.settings() + H2.response(3) + H2.data(3, size: 3))
        h2.finish(reason: "process exited")
        #expect(h2.operations.map(\.streamID) == [1, 3])
        #expect(h2.operations.allSatisfy { $0.status == .error && $0.statusMessage == "process exited" && $0.end == 4_000 })
        #expect(h2.operations[1].http?.statusCode == 200 && h2.operations[1].http?.requestBodySize == 7)
        #expect(h2.operations[1].http?.responseBodySize == 3)
    }

    @Test func interimResponsesAreSkipped() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "POST", "/upload", extra: [("expect", "100-continue")], endStream: false))
        h2.server(H2.settings() + H2.response(1, status: 100))
        h2.client(H2.data(1, size: 50, endStream: true))
        h2.server(H2.response(1, status: 204, endStream: true))
        #expect(h2.operations.map { $0.http?.statusCode } == [204])
        #expect(h2.operations.first?.http?.requestBodySize == 50)
    }

    @Test func paddingIsNotBody() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "POST", "/p", endStream: false) + H2.data(1, [1, 2, 3], endStream: true, padding: 200))
        h2.server(H2.settings() + H2.response(1) + H2.data(1, [1], padding: 0) + H2.data(1, [], endStream: true, padding: 9))
        #expect(h2.operations.first?.http?.requestBodySize == 3)
        #expect(h2.operations.first?.http?.responseBodySize == 1)
    }

    @Test func garbageInTheMiddleCostsCountedErrorsNotOtherStreams() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1, "GET", "/one"))
        h2.client(
            H2.frame(0x6, stream: 0, [1, 2, 3])  // PING of the wrong length
                + H2.frame(0x0, stream: 0, [1, 2])  // DATA on stream 0
                + H2.frame(0xfa, stream: 3, [UInt8](repeating: 0xee, count: 40))  // unknown type: skipped silently
                + H2.frame(0x3, stream: 0, H2.bigEndian(0))  // RST_STREAM on stream 0
                + H2.frame(0x0, flags: 0x8, stream: 1, [200, 1, 2])  // padding longer than the frame
                + H2.request(3, "GET", "/two")
        )
        // A HEADERS whose block is not HPACK: that stream is lost, the table is forgotten,
        // streams made of literals go on.
        h2.client(H2.headers(5, block: [0x80]) + H2.request(7, "GET", "/four"))
        h2.server(H2.settings() + H2.response(1, endStream: true) + H2.response(3, endStream: true) + H2.response(7, endStream: true))
        h2.server(H2.response(5, endStream: true))
        #expect(h2.errors == [
            "invalid_ping_frame", "frame_on_stream_zero", "invalid_rst_stream_frame", "invalid_padding", "hpack_invalid_index",
        ])
        #expect(h2.operations.map { $0.http?.path } == ["/one", "/two", "/four"])
    }

    @Test func aConnectionJoinedMidwayDecodesWhatItCanAndNeverGuesses() {
        var h2 = H2Conversation()
        // No preface: the client's table has entries from before (index 62 and up).
        let known = H2.block([.index(2), .index(6), .named(4, "/static"), .named(1, "svc")])
        let unknownPath = H2.block([.index(2), .index(6), .index(63), .index(62)])
        let unknownMethodOnly = H2.block([.index(70), .named(4, "/x")])
        let unknownUserAgent = H2.block([.index(3), .named(4, "/post"), .index(64)])
        h2.client(H2.headers(101, block: known, endStream: true) + H2.headers(103, block: unknownPath, endStream: true))
        h2.client(H2.headers(105, block: unknownMethodOnly, endStream: true) + H2.headers(107, block: unknownUserAgent, endStream: true))
        // The server's first bytes are a response using its own unknown entries, and one from literals.
        h2.server(H2.headers(101, block: H2.block([.index(8), .index(65)]), endStream: true))
        h2.server(H2.headers(107, block: H2.block([.index(66)]), endStream: true))
        #expect(h2.errors == ["hpack_unknown_table_entry", "hpack_unknown_table_entry", "hpack_unknown_table_entry"])
        #expect(h2.operations.map { $0.http?.path } == ["/static", "/post"])
        #expect(h2.operations.map { $0.http?.method } == ["GET", "POST"])
        #expect(h2.operations.map { $0.http?.statusCode } == [200, nil])
        #expect(h2.operations.first?.http?.host == "svc")
    }

    @Test func aConnectionJoinedMidwayLearnsNewTableEntries() {
        var h2 = H2Conversation()
        let first = H2.block([.index(2), .named(4, "/learned", indexed: true), .literal("x-id", "1", indexed: true)])
        let second = H2.block([.index(2), .index(63)])
        h2.client(H2.headers(11, block: first, endStream: true))
        h2.server(H2.headers(11, block: H2.block([.index(8)]), endStream: true))
        h2.client(H2.headers(13, block: second, endStream: true))
        h2.server(H2.headers(13, block: H2.block([.index(13)]), endStream: true))
        #expect(h2.errors == [])
        #expect(h2.operations.map { $0.http?.path } == ["/learned", "/learned"])
        #expect(h2.operations.map { $0.http?.statusCode } == [200, 404])
    }

    @Test func settingsLimitTheTableSizeTheEncoderMayUse() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings([(0x1, 0)]) + H2.request(1))
        // Before its ACK the server may still use the default size; after it, no more than 0.
        h2.server(H2.settings() + H2.headers(1, block: H2.block([.tableSizeUpdate(4096), .index(8)]), endStream: true))
        h2.server(H2.settingsAck)
        h2.client(H2.request(3))
        h2.server(H2.headers(3, block: H2.block([.tableSizeUpdate(100), .index(8)]), endStream: true))
        #expect(h2.errors == ["hpack_table_size_exceeded"])
        #expect(h2.operations.map { $0.http?.statusCode } == [200, nil])
        // A larger table announced is allowed at once.
        var larger = H2Conversation()
        larger.client(H2.preface + H2.settings([(0x1, 65_536)]) + H2.request(1))
        larger.server(H2.settings() + H2.headers(1, block: H2.block([.tableSizeUpdate(65_536), .index(8)]), endStream: true))
        #expect(larger.errors == [] && larger.operations.count == 1)
    }

    @Test func streamsBeyondTheLimitAbandonTheOldest() {
        var h2 = H2Conversation()
        var bytes = H2.preface
        for index in 0..<(HTTP2Decoder.maxStreams + 10) { bytes += H2.request(UInt32(2 * index + 1), "GET", "/\(index)") }
        h2.client(bytes)
        #expect(h2.decoder.openStreamCount == HTTP2Decoder.maxStreams)
        #expect(h2.errors == [String](repeating: "too_many_streams", count: 10))
        #expect(h2.operations.map { $0.http?.path } == (0..<10).map { "/\($0)" })
        #expect(h2.operations.allSatisfy { $0.statusMessage == "too many streams in flight" })
    }

    @Test func uncapturedBytesInsideDataAreCountedAndOverAHeaderLoseSyncUntilFramesStartAgain() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "POST", "/big", endStream: false))
        let frame = H2.data(1, size: 10_000, endStream: true)
        h2.client(Array(frame.prefix(109)), gap: frame.count - 109)
        h2.server(H2.settings() + H2.response(1, endStream: true))
        #expect(h2.operations.first?.http?.requestBodySize == 10_000)
        // The gap runs past the frame: lost until a write starts with a frame.
        h2.client(H2.request(3, "GET", "/lost") + [0, 0], gap: 50)
        h2.client([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        h2.client(H2.request(5, "GET", "/found"))
        h2.server(H2.response(3, endStream: true) + H2.response(5, endStream: true))
        #expect(h2.output.contains(.lostSync))
        #expect(h2.operations.map { $0.http?.path } == ["/big", "/lost", "/found"])
    }

    @Test func anUpgradedRequestIsStreamOne() {
        let request = HTTPDetails(
            method: "GET", path: "/up", target: "/up", protocolVersion: "1.1", host: "h.example", userAgent: "curl/8.5"
        )
        var h2 = H2Conversation(decoder: HTTP2Decoder(upgradedRequest: request, start: 500, tid: 3, exchangeID: 42))
        h2.client(H2.preface + H2.settings())
        h2.server(H2.settings() + H2.response(1, extra: [("content-type", "text/plain")]) + H2.data(1, size: 12, endStream: true))
        h2.client(H2.request(3, "GET", "/next"))
        h2.server(H2.response(3, endStream: true))
        #expect(h2.errors == [])
        #expect(h2.operations.map(\.streamID) == [1, 3])
        #expect(h2.operations.map(\.exchangeID) == [42, 1 << 32 + 3], "stream ids above every HTTP/1 exchange id")
        let upgraded = h2.operations[0]
        #expect(upgraded.start == 500 && upgraded.tid == 3 && upgraded.end == 3_000)
        #expect(upgraded.http?.protocolVersion == "2" && upgraded.http?.statusCode == 200 && upgraded.http?.responseBodySize == 12)
        #expect(upgraded.http?.host == "h.example" && upgraded.http?.userAgent == "curl/8.5")
        #expect(h2.starts.map(\.streamID) == [3])
    }

    @Test func pushPromisesKeepTheServersTableInStepAndGiveNoOperation() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "GET", "/page"))
        let promised = H2.block([.index(2), .named(4, "/style.css", indexed: true), .index(6)])
        h2.server(H2.settings() + H2.frame(0x5, flags: 0x4, stream: 1, H2.bigEndian(2) + promised))
        // The response refers to the entry the promise inserted (62): the table is in step.
        h2.server(H2.headers(1, block: H2.block([.index(8), .index(62)]), endStream: true))
        h2.server(H2.headers(2, block: H2.block([.index(8)])) + H2.data(2, size: 10, endStream: true))
        h2.client(H2.frame(0x5, flags: 0x4, stream: 3, H2.bigEndian(4) + promised))
        #expect(h2.errors == ["push_promise_from_client"])
        #expect(h2.operations.map { $0.http?.path } == ["/page"])
    }

    @Test func keepsTheQueryWhenConfigured() {
        var h2 = H2Conversation(decoder: HTTP2Decoder(configuration: ProtocolConfiguration(keepQuery: true)))
        h2.client(H2.preface + H2.request(1, "GET", "/search?q=1"))
        h2.server(H2.settings() + H2.response(1, endStream: true))
        #expect(h2.operations.first?.http?.path == "/search?q=1")
    }

    /// A server may answer before it reads a body (nginx's `return`): the stream is reported
    /// when the client's body ends too, counted whole, ending with the answer.
    @Test func answerBeforeTheBodyEndsCountsTheBodyAndEndsWithTheAnswer() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1, "POST", "/upload", endStream: false))
        h2.server(H2.settings() + H2.response(1, status: 201) + H2.data(1, size: 7, endStream: true))
        #expect(h2.operations.isEmpty, "the request is still open")
        h2.client(H2.data(1, size: 12, endStream: true))
        #expect(h2.errors == [])
        #expect(h2.operations.map { "\($0.http?.statusCode ?? 0) \($0.http?.requestBodySize ?? -1)/\($0.http?.responseBodySize ?? -1) \($0.end)" } == ["201 12/7 3000"])
        #expect(h2.operations.first?.status == .unset)
    }

    /// The server resets the rest of a body it does not need, or the connection ends: the
    /// answered stream is a success, ending with its answer.
    @Test(arguments: [true, false])
    func answeredStreamEndedByResetOrCloseIsASuccess(reset: Bool) {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1, "POST", "/upload", endStream: false) + H2.data(1, size: 5))
        h2.server(H2.response(1, status: 201) + H2.data(1, size: 7, endStream: true))
        if reset { h2.server(H2.reset(1, code: 0)) } else { h2.finish() }
        #expect(h2.operations.map { "\($0.http?.statusCode ?? 0) \($0.http?.requestBodySize ?? -1)/\($0.http?.responseBodySize ?? -1) \($0.end)" } == ["201 5/7 3000"])
        #expect(h2.operations.first?.status == .unset && h2.operations.first?.statusMessage == nil)
    }

    /// A write longer than the capture: the prefix and the copy of its last bytes (the tail)
    /// are read, the bytes between skipped by length. Where the skipped bytes end inside a
    /// frame whose header was read, the tail continues it.
    @Test func tailContinuesAFrameWhoseHeaderWasCaptured() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1))
        let write = H2.response(1) + H2.data(1, size: 200) + H2.data(1, size: 3, endStream: true)
        var segment = ProtocolSegment(stream: .responses, bytes: write.prefix(60), gap: write.count - 60, timestamp: 5_000, tid: 9)
        segment.tail = write.suffix(64)
        h2.decoder.receive(segment, into: &h2.output)
        #expect(h2.errors == [] && !h2.output.contains(.lostSync))
        #expect(h2.operations.map { "\($0.http?.statusCode ?? 0) \($0.http?.responseBodySize ?? -1) \($0.end)" } == ["200 203 5000"])
    }

    /// Where a frame header was among the skipped bytes, the tail's last whole frames are
    /// found afresh: the stream they end is reported with what is known of it (its answer's
    /// header block was lost, so no status), the header table forgotten.
    @Test func tailEndingWithWholeFramesResynchronizesAfterALostFrameHeader() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1) + H2.request(3))
        let write = H2.response(1) + H2.data(1, size: 300, endStream: true)
            + H2.response(3) + H2.data(3, size: 30) + H2.data(3, size: 2, endStream: true)
        var segment = ProtocolSegment(stream: .responses, bytes: write.prefix(35), gap: write.count - 35, timestamp: 5_000, tid: 9)
        segment.tail = write.suffix(64)
        h2.decoder.receive(segment, into: &h2.output)
        #expect(h2.output.filter { $0 == .lostSync }.count == 1)
        #expect(h2.operations.map { "\($0.streamID ?? 0) \($0.http?.statusCode ?? 0) \($0.http?.responseBodySize ?? -1)" } == ["1 200 300", "3 0 32"])
        // A tail whose end is not whole frames is not read.
        #expect(HTTP2FrameReader.lastFramesStart(write.suffix(64).dropLast()) == nil)
        #expect(HTTP2FrameReader.lastFramesStart(H2.data(3, size: 2, endStream: true)[...]) == nil, "one frame is not enough")
    }

    @Test func registersUnderHTTPAndGRPC() {
        let registration = ProtocolRegistration.http2
        #expect(registration.isEnabled(by: [.http]) && registration.isEnabled(by: [.grpc]) && !registration.isEnabled(by: [.tcp]))
        #expect(registration.detect(H2.preface[...], .requests) == .matches)
        var decoder = registration.make(ProtocolConfiguration())
        var output: [ProtocolOutput] = []
        decoder.receive(ProtocolSegment(stream: .requests, bytes: (H2.preface + H2.request(1))[...], timestamp: 1, tid: 1), into: &output)
        #expect(output.count == 1)
    }

    @Test(arguments: [
        (Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + H2.settings(), MessageStream.requests, ProtocolDetection.matches),
        (Array("PRI * HTTP/2".utf8), .requests, .needMoreBytes),
        (Array("PRI * HTTP/1.1\r\n".utf8), .requests, .doesNotMatch),
        (Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8), .requests, .doesNotMatch),
        (Array("HTTP/1.1 200 OK\r\n\r\n".utf8), .responses, .doesNotMatch),
        ([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03], .requests, .doesNotMatch),
        ([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f], .requests, .doesNotMatch),  // PostgreSQL SSLRequest
        (Array("*1\r\n$4\r\nPING\r\n".utf8), .requests, .doesNotMatch),
        (H2.settings() + H2.settingsAck, .responses, .matches),
        (H2.request(7, "GET", "/midway"), .requests, .matches),
        (H2.response(7) + H2.data(7, size: 10_000).prefix(100), .responses, .matches),
        (Array(H2.data(7, size: 10_000).prefix(100)), .responses, .doesNotMatch),
        (H2.data(8, size: 3), .requests, .doesNotMatch),
        (H2.frame(0x1, flags: 0x40, stream: 1, [0x82]), .requests, .doesNotMatch),
        (H2.headers(5, block: H2.block([.index(8)]), endStream: true), .requests, .doesNotMatch),
        (H2.headers(5, block: H2.block([.index(8)]), endStream: true), .responses, .matches),
        (H2.headers(5, block: H2.block([.tableSizeUpdate(0), .index(2), .index(5)]), endStream: true), .responses, .doesNotMatch),
        (H2.headers(5, block: H2.block([.tableSizeUpdate(0), .index(2), .index(5)]), endStream: true), .requests, .matches),
        (H2.settings() + H2.headers(5, block: H2.block([.named(4, "/a", indexed: true)])), .responses, .doesNotMatch),
        (H2.headers(5, block: H2.block([.index(70)])), .responses, .matches),
        ([0, 0], .responses, .needMoreBytes),
        ([UInt8](repeating: 0, count: 9), .responses, .doesNotMatch),
    ])
    func detectsPrefaceAndWholeFramesOnly(bytes: [UInt8], stream: MessageStream, detection: ProtocolDetection) {
        #expect(HTTP2Decoder.detect(bytes[...], stream: stream) == detection)
    }
}
