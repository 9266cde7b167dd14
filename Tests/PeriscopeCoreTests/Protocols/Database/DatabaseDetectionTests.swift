import Testing
@testable import PeriscopeCore

/// Each protocol's detector over the first bytes of every recorded connection of the others:
/// the order detection tries them in does not decide what a connection is.
@Suite struct DatabaseDetectionTests {
    static let recordings: [(directory: String, names: [String])] = [
        ("postgresql", PostgreSQLFixtureTests.fixtures), ("mysql", MySQLFixtureTests.fixtures),
        ("redis", RedisFixtureTests.fixtures),
        ("http2", ["grpc", "h2load", "hypercorn-curl-upgrade", "hypercorn-httpx", "nghttpd-curl", "nghttpd-nghttp"]),
    ]

    static let detectors: [(name: String, detect: @Sendable (ArraySlice<UInt8>, MessageStream) -> ProtocolDetection)] = [
        ("postgresql", ProtocolRegistration.postgresql.detect), ("mysql", ProtocolRegistration.mysql.detect),
        ("redis", ProtocolRegistration.redis.detect), ("http2", ProtocolRegistration.http2.detect),
        ("http1", ProtocolRegistration.http1.detect),
    ]

    @Test func onlyItsOwnDetectorMatchesARecordedConnection() throws {
        var checked = 0
        for (directory, names) in Self.recordings {
            for name in names {
                let recording = try RecordedStream(directory, name)
                for connection in recording.connections {
                    for stream in [MessageStream.requests, .responses] {
                        let bytes = recording.firstBytes(of: connection, stream)
                        guard !bytes.isEmpty else { continue }
                        for (detector, detect) in Self.detectors where detect(bytes, stream) == .matches {
                            let own = detector == directory || (directory == "http2" && detector == "http1" && bytes.first != 0x50)
                            #expect(own, "\(detector) matches \(directory)/\(name)-\(connection) \(stream)")
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 40)
    }
}
