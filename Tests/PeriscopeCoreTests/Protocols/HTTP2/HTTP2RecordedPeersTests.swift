import Testing
@testable import PeriscopeCore

/// Conversations of real clients and servers recorded by hack/record-http2-fixtures.sh.
@Suite struct HTTP2RecordedPeersTests {
    /// One line per operation: the fields a span shows.
    static func summary(_ operation: ProtocolOperation) -> String {
        let http = operation.http
        return "\(operation.streamID ?? 0) \(http?.method ?? "-") \(http?.target ?? "-") \(http?.statusCode.map(String.init) ?? "-")"
            + " \(http?.requestBodySize ?? -1)/\(http?.responseBodySize ?? -1)"
    }

    @Test func curlAgainstNghttpd() throws {
        let connections = try H2Fixture.connections("nghttpd-curl")
        #expect(connections.count == 3)
        let outputs = connections.map { $0.decode() }
        #expect(outputs.flatMap(\.decodeErrors) == [])
        #expect(outputs.flatMap(\.operations).map(Self.summary) == [
            "1 GET /index.html 200 0/1234", "1 GET /missing 404 0/148", "1 POST /index.html 200 1234/1234",
        ])
        for operation in outputs.flatMap(\.operations) {
            #expect(operation.http?.protocolVersion == "2" && operation.http?.host == "127.0.0.1:18600")
            #expect(operation.http?.userAgent == "curl/7.88.1" && operation.status == .unset)
            #expect(operation.end > operation.start)
        }
        #expect(outputs.map { $0.starts.count } == [1, 1, 1])
    }

    @Test func nghttpStreamsInterleaveWithFlowControl() throws {
        let output = try H2Fixture(name: "nghttpd-nghttp-001.txt").decode()
        #expect(output.decodeErrors == [])
        // nghttp opens idle streams 3–11 as PRIORITY anchors, then requests on 13, 15, 17.
        #expect(output.operations.map(Self.summary).sorted() == [
            "13 GET /index.html 200 0/1234", "15 GET /big.txt 200 0/100000", "17 GET /missing 404 0/148",
        ])
        #expect(output.operations.allSatisfy { $0.http?.userAgent == "nghttp2/1.52.0" })
    }

    @Test func h2loadGivesExactlyOneOperationPerRequest() throws {
        let connections = try H2Fixture.connections("h2load")
        #expect(connections.count == 2)
        let outputs = connections.map { $0.decode() }
        #expect(outputs.flatMap(\.decodeErrors) == [])
        let operations = outputs.flatMap(\.operations)
        #expect(operations.count == 100)
        #expect(outputs.map(\.operations.count) == [50, 50])
        #expect(operations.allSatisfy { Self.summary($0).hasSuffix("GET /index.html 200 0/1234") && $0.status == .unset })
        #expect(outputs.allSatisfy { Set($0.operations.compactMap(\.streamID)) == Set(stride(from: UInt32(1), through: 99, by: 2)) })
        #expect(outputs.allSatisfy { $0.starts.map(\.exchangeID).sorted() == $0.operations.compactMap(\.exchangeID).sorted() })
    }

    @Test func httpxAgainstHypercorn() throws {
        let output = try H2Fixture(name: "hypercorn-httpx-001.txt").decode()
        #expect(output.decodeErrors == [])
        #expect(output.operations.map(Self.summary) == ["1 GET /hello 200 0/21", "3 POST /echo 200 3000/3000", "5 GET /status/503 503 0/7"])
        #expect(output.operations[0].traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(output.operations.allSatisfy { $0.http?.userAgent == "python-httpx/0.29.0" })
        #expect(output.operations[2].spanStatus(server: true) == .error && output.operations[0].spanStatus(server: false) == .unset)
    }

    @Test func curlUpgradesToH2cAgainstHypercorn() throws {
        let fixture = try H2Fixture(name: "hypercorn-curl-upgrade-001.txt")
        let request = fixture.chunks[0]
        #expect(request.stream == .requests)
        var http1 = HTTP1Decoder(kind: .request)
        guard case .head(let head)? = http1.decode(request.bytes).first(where: { if case .head = $0 { true } else { false } }),
              case .request(let method, let target) = head.startLine
        else {
            Issue.record("no HTTP/1.1 request head")
            return
        }
        let details = HTTPDetails(method: method, path: target, target: target, host: head.host, userAgent: head.userAgent)
        // What follows the 101 response's head on the server's stream is HTTP/2.
        var chunks = Array(fixture.chunks.dropFirst())
        let upgrade = try #require(chunks.firstIndex { $0.stream == .responses })
        let headEnd = try #require(Self.headLength(chunks[upgrade].bytes))
        #expect(String(decoding: chunks[upgrade].bytes.prefix(12), as: UTF8.self) == "HTTP/1.1 101")
        chunks[upgrade].bytes.removeFirst(headEnd)
        let decoder = HTTP2Decoder(upgradedRequest: details, start: request.timestamp, tid: 1, exchangeID: 77)
        let output = fixture.decode(decoder, chunks: chunks)
        #expect(output.decodeErrors == [])
        #expect(output.operations.map(Self.summary) == ["1 GET /hello 200 0/21"])
        #expect(output.operations.first?.exchangeID == 77 && output.operations.first?.start == request.timestamp)
        #expect(output.operations.first?.http?.protocolVersion == "2" && output.operations.first?.http?.userAgent == "curl/7.88.1")
        #expect(output.starts.isEmpty)
    }

    @Test func grpcioUnaryStreamingAndErrors() throws {
        let output = try H2Fixture(name: "grpc-001.txt").decode()
        #expect(output.decodeErrors == [])
        let calls = output.operations
        #expect(calls.map(\.name) == [
            "helloworld.Greeter/SayHello", "routeguide.RouteGuide/ListFeatures", "helloworld.Greeter/Fail", "helloworld.Greeter/Missing",
        ])
        #expect(calls.map(Self.summary) == [
            "1 POST /helloworld.Greeter/SayHello 200 12/18", "3 POST /routeguide.RouteGuide/ListFeatures 200 8/95",
            "5 POST /helloworld.Greeter/Fail 200 8/0", "7 POST /helloworld.Greeter/Missing 200 8/0",
        ])
        #expect(calls.map(\.grpcStatusCode) == [0, 0, 5, 12])
        #expect(calls.map { $0.attribute("rpc.grpc.response.message_count") } == [.int(1), .int(5), .int(0), .int(0)])
        #expect(calls.allSatisfy { $0.attribute("rpc.grpc.request.message_count") == .int(1) })
        #expect(calls.allSatisfy { $0.attribute("rpc.system") == .string("grpc") })
        #expect(calls.map { $0.attribute("rpc.service") } == [
            .string("helloworld.Greeter"), .string("routeguide.RouteGuide"), .string("helloworld.Greeter"), .string("helloworld.Greeter"),
        ])
        #expect(calls.map { $0.attribute("rpc.method") } == [.string("SayHello"), .string("ListFeatures"), .string("Fail"), .string("Missing")])
        #expect(calls.map { $0.spanStatus(server: true) } == [.unset, .unset, .unset, .error])
        #expect(calls.map { $0.spanStatus(server: false) } == [.unset, .unset, .error, .error])
        #expect(calls[2].statusMessage == "no such greeting: ✓" && calls[3].statusMessage == "Method not found!")
        #expect(calls.allSatisfy { $0.http?.userAgent?.hasPrefix("grpc-python/") == true })
    }

    static let prefixes = ["nghttpd-curl", "nghttpd-nghttp", "h2load", "hypercorn-httpx", "grpc"]

    /// However reads and writes cut the same bytes, the operations are the same.
    @Test(arguments: prefixes)
    func operationsDoNotDependOnHowBytesAreCut(prefix: String) throws {
        var generator = SeededGenerator(seed: 0x4832)
        for fixture in try H2Fixture.connections(prefix) {
            let expected = fixture.decode().operations.map(Self.summary)
            for _ in 0..<5 {
                var chunks: [H2Fixture.Chunk] = []
                for chunk in fixture.chunks {
                    var rest = chunk.bytes[...]
                    while !rest.isEmpty {
                        let count = Int.random(in: 1...max(1, min(rest.count, 300)), using: &generator)
                        chunks.append(H2Fixture.Chunk(stream: chunk.stream, timestamp: chunk.timestamp, bytes: Array(rest.prefix(count))))
                        rest = rest.dropFirst(count)
                    }
                }
                let output = fixture.decode(chunks: chunks)
                #expect(output.decodeErrors == [], "\(fixture.name)")
                #expect(output.operations.map(Self.summary) == expected, "\(fixture.name)")
            }
        }
    }

    /// Joined midway (the first reads and writes of each direction never seen): every
    /// operation reported is one the whole conversation has, with the same method, path,
    /// status and sizes; none is invented.
    @Test(arguments: prefixes)
    func joiningMidwayNeverInventsAMethodOrPath(prefix: String) throws {
        var checked = 0
        for fixture in try H2Fixture.connections(prefix) {
            let whole = Dictionary(fixture.decode().operations.map { ($0.streamID ?? 0, Self.summary($0)) }) { first, _ in first }
            for skip in 1..<min(fixture.chunks.count, 12) {
                let chunks = Array(fixture.chunks.dropFirst(skip))
                guard let first = chunks.first(where: { $0.stream == .requests })?.bytes,
                      HTTP2Decoder.detect(first[...], stream: .requests) == .matches
                else { continue }
                let output = fixture.decode(chunks: chunks, finish: false)
                for operation in output.operations {
                    checked += 1
                    #expect(whole[operation.streamID ?? 0] == Self.summary(operation), "\(fixture.name) from chunk \(skip)")
                }
            }
        }
        // nghttp sends all its requests in its first write: joined later, there is none to see.
        #expect(checked > 0 || prefix == "nghttpd-nghttp")
    }

    @Test func h2loadJoinedMidwayStillDecodesItsStaticAndLiteralRequests() throws {
        let fixture = try H2Fixture(name: "h2load-001.txt")
        // From the client's fourth write on: its table already holds :authority and user-agent.
        let requestChunks = fixture.chunks.enumerated().filter { $0.element.stream == .requests }.map(\.offset)
        let start = requestChunks[3]
        let output = fixture.decode(chunks: Array(fixture.chunks[start...]), finish: false)
        let operations = output.operations
        #expect(!operations.isEmpty)
        #expect(operations.allSatisfy { Self.summary($0).hasSuffix("GET /index.html 200 0/1234") })
        #expect(operations.allSatisfy { $0.http?.host == nil })
        #expect(output.decodeErrors.allSatisfy { $0 == "hpack_unknown_table_entry" })
    }

    /// The length of an HTTP/1 head (through its blank line) at the start of `bytes`.
    static func headLength(_ bytes: [UInt8]) -> Int? {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index..<index + 4].elementsEqual(end) { return index + 4 }
        return nil
    }
}
