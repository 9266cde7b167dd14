import Testing
@testable import PeriscopeCore

@Suite struct SpanAttributesTests {
    @Test func serverSpanUsesSemanticConventionNames() {
        let attributes = SpanFixtures.server.attributes
        #expect(attributes.map(\.key) == [
            "http.request.method", "url.scheme", "url.path", "http.route", "http.response.status_code",
            "network.protocol.name", "network.protocol.version", "http.request.body.size", "http.response.body.size",
            "user_agent.original", "server.address", "server.port", "client.address", "client.port",
            "network.peer.address", "network.peer.port", "network.local.address", "network.local.port",
            "network.transport", "network.type", "process.pid", "process.executable.path", "thread.id",
        ])
        let values = Dictionary(uniqueKeysWithValues: attributes.map { ($0.key, $0.value) })
        #expect(values["http.request.method"] == .string("GET"))
        #expect(values["http.response.status_code"] == .int(200))
        #expect(values["server.address"] == .string("10.0.0.1"))
        #expect(values["server.port"] == .int(8080))
        #expect(values["client.address"] == .string("10.0.0.2"))
        #expect(values["client.port"] == .int(51234))
        #expect(values["network.protocol.version"] == .string("1.1"))
        #expect(values["thread.id"] == .int(815))
    }

    @Test func clientSpanPutsThePeerOnTheServerSide() {
        var span = SpanFixtures.server
        span.kind = .client
        let values = Dictionary(uniqueKeysWithValues: span.attributes.map { ($0.key, $0.value) })
        #expect(values["server.address"] == .string("10.0.0.2"))
        #expect(values["server.port"] == .int(51234))
        #expect(values["client.address"] == .string("10.0.0.1"))
        #expect(values["client.port"] == .int(8080))
    }

    @Test func tcpSpanCarriesByteCountsAndNoHTTPAttributes() {
        let values = Dictionary(uniqueKeysWithValues: SpanFixtures.tcp.attributes.map { ($0.key, $0.value) })
        #expect(values["periscope.tcp.bytes_sent"] == .int(1234))
        #expect(values["periscope.tcp.bytes_received"] == .int(56789))
        #expect(values["server.address"] == .string("2001:db8::5"))
        #expect(values["network.type"] == .string("ipv6"))
        #expect(values["http.request.method"] == nil)
        #expect(values["process.executable.path"] == nil)
    }

    @Test func internalSpanHasNoServerOrClientSide() {
        var span = SpanFixtures.tcp
        span.kind = .internal
        let keys = span.attributes.map(\.key)
        #expect(!keys.contains("server.address"))
        #expect(!keys.contains("client.address"))
        #expect(keys.contains("network.peer.address"))
    }

    /// The byte-wise test for the common methods agrees with comparing strings, for them,
    /// near misses of every length and random bytes.
    @Test func commonMethodsAreKnownFromTheirBytes() {
        let common: Set<String> = ["GET", "POST", "PUT", "HEAD", "DELETE"]
        var candidates = ["", "G", "GE", "GET", "GETS", "get", "GEt", "PUT", "PUTS", "POST", "POS", "POSTS", "HEAD", "HEAD ", "DELETE",
                          "DELETF", "DELET", "DELETED", "ELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "QUERY", "TEG", "TUP"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0...7, using: &generator)
            let letters = Array("DEGHLOPSTU".utf8)
            candidates.append(String(decoding: (0..<length).map { _ in letters.randomElement(using: &generator)! }, as: UTF8.self))
        }
        for method in candidates {
            let bytes = Array(method.utf8)
            #expect(bytes.withUnsafeBufferPointer { Span.isCommonMethod($0) } == common.contains(method), "\(method)")
        }
    }
}
