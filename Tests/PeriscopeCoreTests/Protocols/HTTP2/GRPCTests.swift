import Testing
@testable import PeriscopeCore

@Suite struct GRPCTests {
    static let grpcRequest: [(String, String)] = [
        ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", "grpc-python/1.85"),
    ]

    @Test func unaryCallsAreNamedByServiceAndMethodWithStatusFromTrailers() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1, "POST", "/helloworld.Greeter/SayHello", extra: Self.grpcRequest, endStream: false))
        h2.client(H2.data(1, H2.grpcMessage(7), endStream: true))
        h2.server(H2.settings() + H2.response(1, extra: [("content-type", "application/grpc")]) + H2.data(1, H2.grpcMessage(12)))
        h2.server(H2.headers(1, [("grpc-status", "0"), ("grpc-message", "")], endStream: true))
        #expect(h2.errors == [])
        let call = h2.operations[0]
        #expect(call.name == "helloworld.Greeter/SayHello")
        #expect(call.attribute("rpc.system") == .string("grpc"))
        #expect(call.attribute("rpc.service") == .string("helloworld.Greeter"))
        #expect(call.attribute("rpc.method") == .string("SayHello"))
        #expect(call.attribute("rpc.grpc.status_code") == .int(0))
        #expect(call.attribute("rpc.grpc.request.message_count") == .int(1))
        #expect(call.attribute("rpc.grpc.response.message_count") == .int(1))
        #expect(call.grpcStatusCode == 0 && call.statusMessage == nil)
        #expect(call.http?.requestBodySize == 12 && call.http?.responseBodySize == 17 && call.http?.statusCode == 200)
        #expect(call.spanStatus(server: true) == .unset && call.spanStatus(server: false) == .unset)
    }

    @Test func serverStreamingCountsMessagesAcrossFramesAndReads() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "POST", "/route.Guide/List", extra: [("content-type", "application/grpc+proto")], endStream: false))
        h2.client(H2.data(1, H2.grpcMessage(3), endStream: true))
        h2.server(H2.settings() + H2.response(1, extra: [("content-type", "application/grpc")]))
        // Five messages, cut across frames and reads at awkward places.
        let messages = (1...5).flatMap { H2.grpcMessage($0 * 100) }
        let cuts = [0, 2, 3, 200, 506, 900, messages.count]
        for (from, to) in zip(cuts, cuts.dropFirst()) {
            h2.server(H2.data(1, Array(messages[from..<to])))
        }
        h2.server(H2.headers(1, [("grpc-status", "0")], endStream: true))
        #expect(h2.operations.first?.attribute("rpc.grpc.response.message_count") == .int(5))
        #expect(h2.operations.first?.attribute("rpc.grpc.request.message_count") == .int(1))
        #expect(h2.operations.first?.http?.responseBodySize == messages.count)
    }

    @Test func trailersOnlyResponsesCarryTheStatus() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "POST", "/pkg.Svc/Missing", extra: Self.grpcRequest, endStream: false))
        h2.client(H2.data(1, H2.grpcMessage(0), endStream: true))
        h2.server(H2.settings() + H2.headers(1, [
            (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "12"), ("grpc-message", "Method%20not%20found%3A%20%E2%9C%93"),
        ], endStream: true))
        let call = h2.operations[0]
        #expect(call.grpcStatusCode == 12 && call.name == "pkg.Svc/Missing")
        #expect(call.statusMessage == "Method not found: ✓")
        #expect(call.status == .error && call.clientStatus == nil)
        #expect(call.spanStatus(server: true) == .error && call.spanStatus(server: false) == .error)
        #expect(call.attribute("rpc.grpc.response.message_count") == .int(0))
    }

    @Test(arguments: [
        (0, false, false), (1, false, true), (2, true, true), (3, false, true), (4, true, true), (5, false, true),
        (6, false, true), (7, false, true), (8, false, true), (9, false, true), (10, false, true), (11, false, true),
        (12, true, true), (13, true, true), (14, true, true), (15, true, true), (16, false, true), (99, true, true),
    ])
    func statusCodesAreErrorsByRole(code: Int, serverError: Bool, clientError: Bool) {
        #expect(GRPCStatus.isError(code, forServer: true) == serverError)
        #expect(GRPCStatus.isError(code, forServer: false) == clientError)
    }

    @Test func httpStatusDecidesForOtherStreams() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "GET", "/a") + H2.request(3, "GET", "/b") + H2.request(5, "GET", "/c"))
        h2.server(H2.settings() + H2.response(1, status: 404, endStream: true) + H2.response(3, status: 503, endStream: true))
        h2.server(H2.response(5, status: 200, endStream: true))
        let statuses = h2.operations.map { [$0.spanStatus(server: true), $0.spanStatus(server: false)] }
        #expect(statuses == [[.unset, .error], [.error, .error], [.unset, .unset]])
    }

    @Test func grpcTraceBinBecomesTheTraceparent() {
        // version 0, trace id field, span id field, options field.
        let binary: [UInt8] = [0, 0] + (1...16).map { UInt8($0) } + [1] + (0xa1...0xa8).map { UInt8($0) } + [2, 1]
        let base64 = Self.base64(binary)
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.request(1, "POST", "/a.B/C", extra: Self.grpcRequest + [("grpc-trace-bin", base64)]))
        h2.server(H2.settings() + H2.headers(1, [(":status", "200"), ("grpc-status", "0")], endStream: true))
        #expect(h2.operations.first?.traceparent == "00-0102030405060708090a0b0c0d0e0f10-a1a2a3a4a5a6a7a8-01")
        #expect(GRPCTraceBin.traceparent(Array("AAA=".utf8)[...]) == nil)
    }

    @Test(arguments: ["application/grpc", "application/grpc+proto", "application/grpc;charset=utf-8"])
    func recognizesGRPCContentTypes(contentType: String) {
        #expect(HTTP2Decoder.isGRPC(contentType: contentType))
    }

    @Test(arguments: ["application/grpc-web", "application/json", "text/grpc", "application/grpcx"])
    func leavesOtherContentTypesAsHTTP(contentType: String) {
        #expect(!HTTP2Decoder.isGRPC(contentType: contentType))
    }

    @Test func messageCountsAreDroppedWhenAPrefixWasNotCaptured() {
        var counter = GRPCMessageCounter()
        counter.consume(H2.grpcMessage(100)[...].prefix(50))
        counter.skip(55)
        #expect(counter.count == 1)
        counter.skip(3)
        #expect(counter.count == nil)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var text = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<(chunk.count + 1) { text.append(alphabet[value >> (18 - 6 * position) & 0x3f]) }
            index += 3
        }
        return text
    }
}
