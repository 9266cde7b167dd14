import Foundation
@testable import PeriscopeCore

/// A conversation recorded from real peers by hack/capture-relay.py (Tests/Fixtures/http2).
struct H2Fixture {
    struct Chunk {
        var stream: MessageStream
        /// Nanoseconds since the connection began.
        var timestamp: UInt64
        var bytes: [UInt8]
    }

    var name: String
    var chunks: [Chunk]

    static var directory: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/http2").path
    }

    /// Every connection recorded under `prefix` (`h2load` → h2load-001.txt, h2load-002.txt…).
    static func connections(_ prefix: String) throws -> [H2Fixture] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix(prefix + "-") && $0.hasSuffix(".txt") }
            .sorted()
        return try names.map { try H2Fixture(name: $0) }
    }

    init(name: String) throws {
        self.name = name
        let text = try String(contentsOfFile: "\(Self.directory)/\(name)", encoding: .utf8)
        chunks = text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let timestamp = UInt64(parts[1]) else { return nil }
            return Chunk(stream: parts[0] == "c" ? .requests : .responses, timestamp: timestamp, bytes: hexBytes(String(parts[2])))
        }
    }

    var requestBytes: [UInt8] { chunks.filter { $0.stream == .requests }.flatMap(\.bytes) }
    var responseBytes: [UInt8] { chunks.filter { $0.stream == .responses }.flatMap(\.bytes) }

    /// Feeds every chunk as one read or write (optionally split further), then ends the connection.
    func decode(_ decoder: HTTP2Decoder = HTTP2Decoder(), chunks: [Chunk]? = nil, finish: Bool = true) -> [ProtocolOutput] {
        var decoder = decoder
        var output: [ProtocolOutput] = []
        for chunk in chunks ?? self.chunks {
            decoder.receive(ProtocolSegment(stream: chunk.stream, bytes: chunk.bytes[...], timestamp: chunk.timestamp, tid: 1), into: &output)
        }
        if finish { decoder.finish(at: (self.chunks.last?.timestamp ?? 0) + 1, reason: "connection closed", into: &output) }
        return output
    }
}

extension [ProtocolOutput] {
    var operations: [ProtocolOperation] {
        compactMap { if case .operation(let operation) = $0 { operation } else { nil } }
    }

    var decodeErrors: [String] {
        compactMap { if case .decodeError(let reason) = $0 { reason } else { nil } }
    }

    var starts: [RequestStart] {
        compactMap { if case .requestStarted(let start) = $0 { start } else { nil } }
    }
}
