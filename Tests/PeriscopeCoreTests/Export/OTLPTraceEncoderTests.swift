import Testing
@testable import PeriscopeCore

@Suite struct OTLPTraceEncoderTests {
    static let resource = TelemetryResource.process(
        pid: 812, executable: "/usr/sbin/nginx", environmentServiceName: "checkout", hostName: "node-1",
        extra: ["deployment.environment": "prod"]
    )

    @Test func encodesResourceScopeAndSpanFields() throws {
        var span = SpanFixtures.server
        span.status = .error
        span.statusMessage = "boom"
        let bytes = OTLPTraceEncoder.encode([.init(resource: Self.resource, spans: [span])])
        let request = try ProtobufReader(bytes)
        let resourceSpans = try request.messages(1)
        #expect(resourceSpans.count == 1)
        let resource = try resourceSpans[0].message(1).attributes(1)
        #expect(resource["service.name"]?.string(1) == "checkout")
        #expect(resource["process.pid"]?.varint(3) == 812)
        #expect(resource["process.executable.name"]?.string(1) == "nginx")
        #expect(resource["telemetry.sdk.name"]?.string(1) == "periscope")
        #expect(resource["deployment.environment"]?.string(1) == "prod")
        let scopeSpans = try resourceSpans[0].message(2)
        #expect(try scopeSpans.message(1).string(1) == "periscope")
        let encoded = try scopeSpans.message(2)
        #expect(encoded.bytes(1) == span.traceID.bytes)
        #expect(encoded.bytes(2) == span.spanID.bytes)
        #expect(encoded.bytes(4) == span.parentSpanID?.bytes)
        #expect(encoded.string(5) == "GET /users/{id}")
        #expect(encoded.varint(6) == 2, "SPAN_KIND_SERVER")
        #expect(encoded.fixed64(7) == span.startTimeUnixNano)
        #expect(encoded.fixed64(8) == span.endTimeUnixNano)
        let attributes = try encoded.attributes(9)
        #expect(attributes["http.request.method"]?.string(1) == "GET")
        #expect(attributes["http.route"]?.string(1) == "/users/{id}")
        #expect(attributes["http.response.status_code"]?.varint(3) == 200)
        #expect(attributes["server.port"]?.varint(3) == 8080)
        #expect(attributes["client.address"]?.string(1) == "10.0.0.2")
        #expect(attributes.count == span.attributes.count)
        let status = try encoded.message(15)
        #expect(status.varint(3) == 2, "STATUS_CODE_ERROR")
        #expect(status.string(2) == "boom")
    }

    /// A writer that encodes many batches copies the connection attributes a span shares with
    /// the spans of its connection encoded before: each span's bytes are those it has encoded
    /// alone, whatever changed from one span to the next and however many came between.
    @Test func encodesEachSpanOfManyBatchesAsItEncodesItAlone() throws {
        let spans = SpanFixtures.manyConnections
        var writer = ProtobufWriter()
        var batch = 0
        for start in stride(from: 0, to: spans.count, by: 100) {
            let spans = Array(spans[start..<min(start + 100, spans.count)])
            OTLPTraceEncoder.encode([.init(resource: Self.resource, spans: spans)], into: &writer)
            let encoded = try writer.withUnsafeBytes { try ProtobufReader(Array($0)) }.message(1).message(2).all(2)
            #expect(encoded.count == spans.count)
            for (span, message) in zip(spans, encoded) {
                var alone = ProtobufWriter()
                alone.span(span)
                #expect(message == .bytes(alone.bytes), "batch \(batch)")
            }
            batch += 1
        }
    }

    /// A span's ids, name, kind and times, written at once, are what the field writers make
    /// of them one by one: with and without a parent, each kind, zero times left out.
    @Test func spanHeaderIsWhatTheFieldWritersMake() {
        for base in [SpanFixtures.server, SpanFixtures.tcp, SpanFixtures.hostile] {
            for kind: Span.Kind in [.server, .client, .internal] {
                for times: (UInt64, UInt64) in [(base.startTimeUnixNano, base.endTimeUnixNano), (0, 0), (0, 1), (.max, 1 << 63)] {
                    var span = base
                    span.kind = kind
                    (span.startTimeUnixNano, span.endTimeUnixNano) = times
                    var expected = ProtobufWriter()
                    expected.bigEndianBytes(1, span.traceID.high, span.traceID.low)
                    expected.bigEndianBytes(2, span.spanID.value)
                    if let parent = span.parentSpanID { expected.bigEndianBytes(4, parent.value) }
                    expected.string(5, span.name)
                    expected.uint64(6, span.kind.otlpValue)
                    expected.fixed64(7, span.startTimeUnixNano)
                    expected.fixed64(8, span.endTimeUnixNano)
                    var written = ProtobufWriter()
                    written.span(span)
                    #expect(Array(written.bytes.prefix(expected.count)) == expected.bytes)
                }
            }
        }
    }

    /// HTTP attributes written in one pass (`writeCommonHTTPAttributes`) are the bytes the
    /// attributes make one by one, for random details of every shape: common and other
    /// methods, schemes, paths with and without their `/`, bytes that are not ASCII or not
    /// UTF-8, values too long for one-byte lengths, routes, status codes (negative and above
    /// one varint byte), versions, body sizes and user agents present or not, and with
    /// protocol attributes; the common shape is taken for many of them.
    @Test func commonHTTPAttributesAreTheBytesWrittenOneByOne() throws {
        let methods = ["GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "get", "GE", "GETS", ""]
        let pieces: [[UInt8]] = [
            Array("/users".utf8), Array("?q=1".utf8), [0x22], [0x00], [0x7F], Array("é".utf8), [0xFF],
            Array("abcdefgh".utf8), [UInt8](repeating: 0x61, count: 90),
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
            let path = randomBytes(round % 7)
            let userAgent = maybe(randomBytes(Int.random(in: 0..<4, using: &generator)))
            let text = method + path + (userAgent ?? [])
            let pathField = Int32(method.count)..<Int32(method.count + path.count)
            var details = HTTPDetails(
                text: text, method: 0..<Int32(method.count), target: pathField, path: pathField,
                pathNeedsSlash: Int.random(in: 0..<4, using: &generator) == 0, host: nil,
                userAgent: userAgent.map { _ in Int32(method.count + path.count)..<Int32(text.count) }, traceparent: nil,
                statusCode: maybe(Int.random(in: -5...99_999, using: &generator)),
                protocolVersion: ["1.1", "1.0", "2"].randomElement(using: &generator)!,
                requestBodySize: maybe(Int.random(in: 0...Int.max, using: &generator)),
                responseBodySize: maybe(Int.random(in: 0...1_000_000, using: &generator)))
            details.scheme = ["http", "https", "ftp"].randomElement(using: &generator)!
            details.route = maybe(String(decoding: randomBytes(Int.random(in: 0..<3, using: &generator)), as: UTF8.self))
            var span = SpanFixtures.server
            span.http = details
            if Int.random(in: 0..<8, using: &generator) == 0 { span.protocolAttributes = [Attribute("rpc.system", .string("grpc"))] }
            var fast = ProtobufWriter()
            var reference = ProtobufWriter()
            fast.span(span)
            reference.span(span, commonHTTP: false)
            #expect(fast.bytes == reference.bytes)
            var probe = ProtobufWriter()
            if span.protocolAttributes.isEmpty,
               span.readHTTPInPlace({ OTLPTraceEncoder.writeCommonHTTPAttributes(&$0, to: &probe.writer) }) == true {
                common += 1
            }
        }
        // About 200 of the 2,000 draws have the common shape: the bound only asks that the
        // fast path was taken often, not that a random draw reaches its mean.
        #expect(common > 60, "the common shape drawn \(common) times")
    }

    @Test func clientKindAndUnsetStatusAndNoParent() throws {
        let bytes = OTLPTraceEncoder.encode([.init(resource: Self.resource, spans: [SpanFixtures.tcp])])
        let span = try ProtobufReader(bytes).message(1).message(2).message(2)
        #expect(span.varint(6) == 3, "SPAN_KIND_CLIENT")
        #expect(span.bytes(4) == nil)
        #expect(span.all(15).isEmpty)
    }

    @Test func oneResourceSpansPerGroup() throws {
        let other = TelemetryResource.process(pid: 9, executable: "/bin/x", environmentServiceName: nil, hostName: "h")
        let bytes = OTLPTraceEncoder.encode([
            .init(resource: Self.resource, spans: [SpanFixtures.server, SpanFixtures.server]),
            .init(resource: other, spans: [SpanFixtures.tcp]),
        ])
        let groups = try ProtobufReader(bytes).messages(1)
        #expect(groups.count == 2)
        #expect(try groups[0].message(2).messages(2).count == 2)
        #expect(try groups[1].message(1).attributes(1)["service.name"]?.string(1) == "x")
    }
}
