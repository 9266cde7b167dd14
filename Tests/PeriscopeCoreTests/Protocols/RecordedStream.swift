import Foundation
@testable import PeriscopeCore

/// Connections recorded from real clients and servers by `hack/record-stream.py` (see
/// `hack/record-db-fixtures.sh`): each line one read's bytes, in order.
struct RecordedStream {
    struct Chunk {
        var connection: Int
        var stream: MessageStream
        var timestamp: UInt64
        var bytes: [UInt8]
    }

    var chunks: [Chunk]

    /// The package root (…/Tests/PeriscopeCoreTests/Protocols/RecordedStream.swift → …).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Tests/Fixtures/<directory>/<name>.stream`.
    init(_ directory: String, _ name: String) throws {
        let text = try String(contentsOfFile: "\(Self.packageRoot)/Tests/Fixtures/\(directory)/\(name).stream", encoding: .utf8)
        chunks = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let connection = Int(fields[0]), let offset = UInt64(fields[2]) else {
                throw FixtureError(line: String(line))
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(fields[3].count / 2)
            var index = fields[3].startIndex
            while index < fields[3].endIndex {
                let next = fields[3].index(index, offsetBy: 2)
                guard let byte = UInt8(fields[3][index..<next], radix: 16) else { throw FixtureError(line: String(line)) }
                bytes.append(byte)
                index = next
            }
            // Kernel-like timestamps: an arbitrary boot offset plus the recorded time.
            chunks.append(Chunk(connection: connection, stream: fields[1] == ">" ? .requests : .responses,
                                timestamp: 1_000_000_000 + offset, bytes: bytes))
        }
    }

    struct FixtureError: Error {
        var line: String
    }

    var connections: [Int] { Array(Set(chunks.map(\.connection))).sorted() }

    func chunks(of connection: Int) -> [Chunk] { chunks.filter { $0.connection == connection } }

    /// The first bytes of `stream` on `connection`, as a tracker would detect from.
    func firstBytes(of connection: Int, _ stream: MessageStream) -> ArraySlice<UInt8> {
        chunks.first { $0.connection == connection && $0.stream == stream }.map { $0.bytes[...] } ?? []
    }

    /// Feeds each read of `connection` to `decoder` as one segment, copying at most
    /// `capture` bytes of each (the rest becomes the segment's gap), optionally split at
    /// random points, then finishes the connection.
    func decode<Decoder: ProtocolDecoder>(
        _ decoder: inout Decoder, connection: Int, capture: Int = .max, split: UInt64? = nil
    ) -> [ProtocolOutput] {
        var output: [ProtocolOutput] = []
        var generator = SeededGenerator(seed: split ?? 0)
        var last: UInt64 = 0
        for chunk in chunks(of: connection) {
            var pieces: [ArraySlice<UInt8>] = [chunk.bytes[...]]
            if split != nil, chunk.bytes.count > 1 {
                pieces = []
                var rest = chunk.bytes[...]
                while !rest.isEmpty {
                    let size = Int.random(in: 1...max(1, rest.count), using: &generator)
                    pieces.append(rest.prefix(size))
                    rest = rest.dropFirst(size)
                }
            }
            for piece in pieces {
                let captured = piece.prefix(capture)
                decoder.receive(
                    ProtocolSegment(stream: chunk.stream, bytes: captured, gap: piece.count - captured.count,
                                    timestamp: chunk.timestamp, tid: Int32(100 + connection)),
                    into: &output)
            }
            last = chunk.timestamp
        }
        decoder.finish(at: last + 1, reason: "connection closed", into: &output)
        return output
    }
}

extension Array where Element == ProtocolOutput {
    var operations: [ProtocolOperation] {
        compactMap { if case .operation(let operation) = $0 { operation } else { nil } }
    }

    var decodeErrors: [String] {
        compactMap { if case .decodeError(let reason) = $0 { reason } else { nil } }
    }

    var lostSyncs: Int {
        count { if case .lostSync = $0 { true } else { false } }
    }
}

extension ProtocolOperation {
    func attribute(_ key: String) -> AttributeValue? {
        attributes.first { $0.key == key }?.value
    }

    func string(_ key: String) -> String? {
        if case .string(let value) = attribute(key) { value } else { nil }
    }

    func int(_ key: String) -> Int? {
        if case .int(let value) = attribute(key) { value } else { nil }
    }

    /// `name | status code | text` for compact comparisons.
    var summary: String {
        [name, string("db.response.status_code") ?? "-", string("db.query.text") ?? "-"].joined(separator: " | ")
    }
}
