import Foundation
import Testing
@testable import PeriscopeCore

@Suite struct SpanJSONFormatterTests {
    func parse(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    /// A formatter that writes many spans copies the attributes a span shares with the earlier
    /// spans of its connection: the bytes are those of each span formatted alone, whatever
    /// changed from one span to the next (ends, kind, process, thread, executable, TCP or HTTP,
    /// protocol attributes) and however many connections came between.
    @Test func writesEachSpanOfManyAsItWritesItAlone() throws {
        let spans = SpanFixtures.manyConnections
        var formatter = SpanJSONFormatter()
        var buffer = OutputBuffer()
        var expected: [UInt8] = []
        for span in spans {
            formatter.write(span, into: &buffer)
            buffer.append(UInt8(ascii: "\n"))
            expected += Array(SpanJSONFormatter.format(span).utf8) + [UInt8(ascii: "\n")]
        }
        #expect(buffer.bytes == expected)
    }

    /// The `resource` object a formatter copies for the later spans of a pod is the one each
    /// span would get alone: the same attributes in another dictionary, a pod whose attributes
    /// changed, processes whose pids share a slot, spans without a pod in between.
    @Test func writesEachPodsResourceAsItWritesItAlone() throws {
        let web = ["k8s.pod.name": "web-1", "k8s.namespace.name": "shop", "service.name": "web"]
        var equalElsewhere: [String: String] = [:]
        for (key, value) in web { equalElsewhere[key] = value }
        let relabelled = web.merging(["service.version": "2"]) { $1 }
        let resources: [[String: String]?] = [web, web, equalElsewhere, nil, relabelled, web, [:], ["k8s.pod.name": "db-0"], web]
        let slots = ResourceObjectCache.slotCount
        let pids: [Int32] = [100, 100 + Int32(slots), 7, 100]
        var formatter = SpanJSONFormatter()
        var buffer = OutputBuffer()
        var expected: [UInt8] = []
        for round in 0..<3 {
            for (index, resource) in resources.enumerated() {
                var span = index % 2 == 0 ? SpanFixtures.server : SpanFixtures.tcp
                span.pid = pids[(index + round) % pids.count]
                formatter.write(span, into: &buffer, resource: resource)
                buffer.append(UInt8(ascii: "\n"))
                expected += Array(SpanJSONFormatter.format(span, resource: resource).utf8) + [UInt8(ascii: "\n")]
            }
        }
        #expect(buffer.bytes == expected)
        #expect(String(decoding: buffer.bytes, as: UTF8.self).contains(#""resource":{"k8s.namespace.name":"shop","k8s.pod.name":"web-1","service.name":"web","service.version":"2"}"#))
    }

    @Test func writesOTLPFieldNamesAndTypedAttributes() throws {
        let line = SpanJSONFormatter().format(SpanFixtures.server)
        #expect(!line.contains("\n"))
        let json = try parse(line)
        #expect(json["traceId"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(json["spanId"] as? String == "00f067aa0ba902b7")
        #expect(json["parentSpanId"] as? String == "b7ad6b7169203331")
        #expect(json["name"] as? String == "GET /users/{id}")
        #expect(json["kind"] as? String == "SPAN_KIND_SERVER")
        #expect(json["startTimeUnixNano"] as? String == "1700000000123000000")
        #expect(json["endTimeUnixNano"] as? String == "1700000000135345678")
        let status = try #require(json["status"] as? [String: Any])
        #expect(status["code"] as? String == "STATUS_CODE_UNSET")
        #expect(status["message"] == nil)
        let attributes = try #require(json["attributes"] as? [String: Any])
        #expect(attributes["http.request.method"] as? String == "GET")
        #expect(attributes["url.path"] as? String == "/users/42")
        #expect(attributes["http.route"] as? String == "/users/{id}")
        #expect(attributes["http.response.status_code"] as? Int == 200)
        #expect(attributes["server.port"] as? Int == 8080)
        #expect(attributes["client.address"] as? String == "10.0.0.2")
        #expect(attributes["process.executable.path"] as? String == "/usr/sbin/nginx")
        #expect(attributes.count == SpanFixtures.server.attributes.count)
        #expect(line.contains("\"http.response.status_code\":200"), "numbers are JSON numbers, not strings")
    }

    @Test func aPodsResourceAttributesGoIntoAResourceObject() throws {
        let json = try parse(SpanJSONFormatter.format(SpanFixtures.server, resource: ["k8s.pod.name": "web-1", "k8s.namespace.name": "shop"]))
        let resource = try #require(json["resource"] as? [String: Any])
        #expect(resource["k8s.pod.name"] as? String == "web-1" && resource["k8s.namespace.name"] as? String == "shop")
        #expect(try parse(SpanJSONFormatter.format(SpanFixtures.server))["resource"] == nil, "no pod, no resource object")
    }

    @Test func omitsParentForARootSpanAndWritesTheStatusMessage() throws {
        let json = try parse(SpanJSONFormatter().format(SpanFixtures.hostile))
        #expect(json["parentSpanId"] == nil)
        let status = try #require(json["status"] as? [String: Any])
        #expect(status["code"] as? String == "STATUS_CODE_ERROR")
        #expect(status["message"] as? String == "connection closed before the response completed")
    }

    @Test func hostileBytesRoundTripThroughEscaping() throws {
        let span = SpanFixtures.hostile
        let line = SpanJSONFormatter().format(span)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 })
        let attributes = try #require(try parse(line)["attributes"] as? [String: Any])
        #expect(attributes["url.path"] as? String == span.http?.path)
        #expect(attributes["user_agent.original"] as? String == "tab\there\nnewline\u{0}nul")
        #expect(attributes["http.request.method"] as? String == "_OTHER")
        #expect(attributes["http.request.method_original"] as? String == "PURGE")
    }

    /// A method and a path read as bytes that are not UTF-8 come out replaced, as their
    /// strings read, in JSON and in OTLP; ASCII ones as they are.
    @Test func fieldsReadAsBytesAreWrittenAsTheirStringsRead() throws {
        for pathBytes: [UInt8] in [Array("/plain/a\"b".utf8), [0x2F, 0xFF, 0xC3, 0x41], Array("/é\u{2028}".utf8)] {
            let text = Array("GET".utf8) + pathBytes
            var span = SpanFixtures.server
            span.http = HTTPDetails(
                text: text, method: 0..<3, target: 3..<Int32(text.count), path: 3..<Int32(text.count), pathNeedsSlash: false,
                host: nil, userAgent: nil, traceparent: nil, statusCode: 200, protocolVersion: "1.1", requestBodySize: 0, responseBodySize: 0)
            let expected = String(decoding: pathBytes, as: UTF8.self)
            let attributes = try #require(try parse(SpanJSONFormatter().format(span))["attributes"] as? [String: Any])
            #expect(attributes["url.path"] as? String == expected)
            #expect(attributes["http.request.method"] as? String == "GET")
            let encoded = try ProtobufReader(OTLPTraceEncoder.encode([.init(resource: .agent(pid: 1, hostName: "h"), spans: [span])]))
                .message(1).message(2).message(2)
            #expect(try encoded.attributes(9)["url.path"]?.string(1) == expected)
            #expect(span.attributes.first { $0.key == "url.path" }?.value == .string(expected))
        }
    }

    /// Random bytes of every kind (controls, quotes, UTF-8 of one to four bytes, U+2028,
    /// bytes that are not UTF-8), at every length around the eight-byte steps of the fast
    /// copy, come back from the JSON parser as the strings that went in, and from the OTLP
    /// bytes too.
    @Test func randomHostileStringsRoundTripThroughJSONAndOTLP() throws {
        let pieces: [[UInt8]] = [
            [0x22], [0x5C], [0x0A], [0x00], [0x1F], [0x7F], [0x41], [0x7A], [0x2F],
            Array("é".utf8), Array("😀".utf8), Array("\u{2028}".utf8), Array("\u{2029}".utf8), [0xE2, 0x80], [0xFF], [0xC3],
        ]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<(round % 37) {
                let piece = pieces[Int.random(in: 0..<pieces.count, using: &generator)]
                bytes += Int.random(in: 0..<3, using: &generator) == 0 ? piece : [0x61]
            }
            let text = String(decoding: bytes, as: UTF8.self)
            var span = SpanFixtures.server
            span.http?.path = text
            span.name = text
            let attributes = try #require(try parse(SpanJSONFormatter().format(span))["attributes"] as? [String: Any])
            #expect(attributes["url.path"] as? String == text)
            let encoded = try ProtobufReader(OTLPTraceEncoder.encode([.init(resource: .agent(pid: 1, hostName: "h"), spans: [span])]))
                .message(1).message(2).message(2)
            #expect(encoded.string(5) == (text.isEmpty ? nil : text))
            #expect(try encoded.attributes(9)["url.path"]?.string(1) == text)
        }
    }

    /// HTTP attributes written in one pass (`writeCommonHTTPAttributes`) are the bytes the
    /// attributes make one by one, for random details of every shape: common and other
    /// methods, schemes, paths with and without their `/`, escapes and bytes that are not
    /// UTF-8, routes, status codes, versions, body sizes and user agents present or not, and
    /// with protocol attributes; the common shape is taken for many of them.
    @Test func commonHTTPAttributesAreTheBytesWrittenOneByOne() throws {
        let methods = ["GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "PURGE", "get", "GE", "GETS", "POSTS", "DELETED", ""]
        let pieces: [[UInt8]] = [
            Array("/users".utf8), Array("/42".utf8), Array("?q=1".utf8), [0x22], [0x5C], [0x0A], [0x00], [0x7F], [0x41],
            Array("é".utf8), Array("\u{2028}".utf8), [0xFF], [0xC3], Array("abcdefgh".utf8),
        ]
        var generator = SystemRandomNumberGenerator()
        func randomBytes(_ count: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            for _ in 0..<count {
                let piece = pieces.randomElement(using: &generator)!
                bytes += Int.random(in: 0..<3, using: &generator) == 0 ? piece : Array("/a".utf8)
            }
            return bytes
        }
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &generator) ? value() : nil }
        var common = 0
        for round in 0..<2000 {
            let method = Array(methods.randomElement(using: &generator)!.utf8)
            let path = randomBytes(round % 9)
            let userAgent = maybe(randomBytes(Int.random(in: 0..<4, using: &generator)))
            let text = method + path + (userAgent ?? [])
            let pathField = Int32(method.count)..<Int32(method.count + path.count)
            var details = HTTPDetails(
                text: text, method: 0..<Int32(method.count), target: pathField, path: pathField,
                pathNeedsSlash: Int.random(in: 0..<4, using: &generator) == 0, host: nil,
                userAgent: userAgent.map { _ in Int32(method.count + path.count)..<Int32(text.count) }, traceparent: nil,
                statusCode: maybe(Int.random(in: -5...99_999, using: &generator)),
                protocolVersion: ["1.1", "1.0", "2", "0.9"].randomElement(using: &generator)!,
                requestBodySize: maybe(Int.random(in: 0...Int.max, using: &generator)),
                responseBodySize: maybe(Int.random(in: 0...1_000_000, using: &generator)))
            details.scheme = ["http", "https", "ftp"].randomElement(using: &generator)!
            details.route = maybe(String(decoding: randomBytes(Int.random(in: 0..<4, using: &generator)), as: UTF8.self))
            var span = SpanFixtures.server
            span.http = details
            if Int.random(in: 0..<8, using: &generator) == 0 { span.protocolAttributes = [Attribute("rpc.system", .string("grpc"))] }
            var fast = OutputBuffer()
            var reference = OutputBuffer()
            SpanJSONFormatter.write(span, to: &fast.writer, resource: nil)
            SpanJSONFormatter.write(span, to: &reference.writer, resource: nil, commonHTTP: false)
            #expect(fast.bytes == reference.bytes, "\(String(decoding: reference.bytes, as: UTF8.self))")
            var probe = OutputBuffer()
            if span.protocolAttributes.isEmpty, span.readHTTPInPlace({ SpanJSONFormatter.writeCommonHTTPAttributes(&$0, to: &probe.writer) }) == true {
                common += 1
            }
        }
        // About 110 of the 2,000 draws have the common shape (σ ≈ 10): the bound only asks that
        // the fast path was taken often, not that a random draw reaches its mean.
        #expect(common > 40, "the common shape drawn \(common) times")
    }

    @Test(arguments: [
        ("plain", "\"plain\""),
        ("q\"b\\s/", "\"q\\\"b\\\\s/\""),
        ("\n\r\t\u{8}\u{c}", "\"\\n\\r\\t\\b\\f\""),
        ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\\u007f\""),
        ("\u{2028}é😀", "\"\\u2028é😀\""),
    ])
    func escapesStrings(input: String, expected: String) {
        #expect(JSONString.quoted(input) == expected)
    }

    @Test func writesEveryAttributeValueType() {
        #expect(SpanJSONFormatter.json(.string("a")) == "\"a\"")
        #expect(SpanJSONFormatter.json(.int(-3)) == "-3")
        #expect(SpanJSONFormatter.json(.bool(true)) == "true")
        #expect(SpanJSONFormatter.json(.double(1.5)) == "1.5")
        #expect(SpanJSONFormatter.json(.double(.nan)) == "null")
    }
}
