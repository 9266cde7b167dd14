import Testing
@testable import PeriscopeCore

/// TLS connections: plaintext from the TLS library is decoded, records on the socket are
/// counted and never decoded.
@Suite struct ConnectionTrackerTLSTests {
    let request = "GET /orders HTTP/1.1\r\nHost: shop\r\n\r\n"
    let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0xc8] + Array(repeating: 0x42, count: 200)

    func tls(_ event: CaptureEvent, _ layer: TLSLayer) -> CaptureEvent {
        var event = event
        event.tls = layer
        return event
    }

    @Test func plaintextIsDecodedAsHTTPSAndRecordsAreOnlyCounted() throws {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1_000),
            tls(c.read(bytes: clientHello, at: 1_100), .records),
            tls(c.write(bytes: Array(repeating: 0x17, count: 90), at: 1_200), .records),
            tls(c.read(bytes: [], at: 1_900, total: 70), .records),
            tls(c.read(request, at: 2_000), .plaintext),
            tls(c.write(bytes: [], at: 2_900, total: 60), .records),
            tls(c.write(response, at: 3_000), .plaintext),
            c.closed(at: 4_000),
        ])
        #expect(spans.count == 1)
        let span = try #require(spans.first)
        #expect(span.name == "GET" && span.http?.path == "/orders" && span.http?.statusCode == 200)
        #expect(span.http?.scheme == "https")
        #expect(span.attributes.contains { $0.key == "url.scheme" && $0.value == .string("https") })
        #expect(span.http?.responseBodySize == 2)
        #expect(tracker.counters.decodeErrors == 0)
    }

    /// nginx peeks at one byte to tell TLS from cleartext before its library reads the
    /// handshake; a cleartext client's first bytes of a ClientHello do the same.
    @Test(arguments: [1, 2, 5, 205])
    func handshakeSeenAsFirstBytesMakesTheConnectionTLS(prefix: Int) throws {
        let c = Connection()
        var tracker = makeTracker()
        let spans = tracker.run([
            c.opened(.server, at: 1_000),
            c.read(bytes: Array(clientHello.prefix(prefix)), at: 1_050),
            tls(c.read(request, at: 2_000), .plaintext),
            tls(c.write(response, at: 3_000), .plaintext),
            c.closed(at: 4_000),
        ])
        #expect(spans.map(\.name) == ["GET"])
        #expect(spans.first?.http?.scheme == "https")
        #expect(tracker.counters.decodeErrors == 0)
    }

    /// Without probes on its library a TLS connection is one connection span with its
    /// record bytes, never decode errors.
    @Test func recordsAloneGiveAConnectionSpanWithTheirBytes() throws {
        let c = Connection()
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocols: [.http, .tcp]))
        let spans = tracker.run([
            c.opened(.server, at: 1_000),
            c.read(bytes: clientHello, at: 1_100),
            c.write(bytes: [0x16, 0x03, 0x03] + Array(repeating: 1, count: 97), at: 1_200),
            c.read(bytes: [0x17, 0x03, 0x03, 0, 10] + Array(repeating: 2, count: 10), at: 1_300),
            c.closed(at: 2_000),
        ])
        let span = try #require(spans.first)
        #expect(spans.count == 1 && span.name == "tcp")
        #expect(span.tcp == TCPDetails(bytesSent: 100, bytesReceived: 220))
        #expect(tracker.counters.decodeErrors == 0)
    }

    @Test(arguments: [
        ([UInt8](), false), ([0x16], true), ([0x16, 0x03], true), ([0x16, 0x03, 0x01], true),
        ([0x16, 0x03, 0x04], true), ([0x16, 0x03, 0x05], false), ([0x16, 0x02], false), ([0x17, 0x03, 0x03], false),
        (Array("GET / HTTP/1.1".utf8), false),
    ])
    func recognisesTheStartOfAHandshakeRecord(bytes: [UInt8], expected: Bool) {
        #expect(TLSLayer.startsHandshake(bytes[...]) == expected)
        #expect(TLSLayer.startsHandshake(([0xff] + bytes).dropFirst()) == expected, "slices keep their indices")
    }
}
