import Foundation
@testable import PeriscopeCore

/// Connections recorded between real clients and servers by `hack/capture-relay.py` (see
/// `hack/record-db-fixtures.sh`): one file per connection, `NAME-NNN.txt`, each line one
/// read's bytes in order — `c` what the client sent, `s` what the server sent.
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

    /// Every connection of `Tests/Fixtures/<directory>/<name>-NNN.txt`, numbered by NNN.
    init(_ directory: String, _ name: String) throws {
        let folder = "\(Self.packageRoot)/Tests/Fixtures/\(directory)"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix(name + "-") && $0.hasSuffix(".txt") && Int($0.dropFirst(name.count + 1).dropLast(4)) != nil
        }.sorted()
        guard !files.isEmpty else { throw FixtureError(line: "no \(folder)/\(name)-NNN.txt") }
        chunks = []
        for file in files {
            let connection = Int(file.dropFirst(name.count + 1).dropLast(4)) ?? 0
            let text = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, fields[0] == "c" || fields[0] == "s", let offset = UInt64(fields[1]) else {
                    throw FixtureError(line: String(line))
                }
                var bytes: [UInt8] = []
                bytes.reserveCapacity(fields[2].count / 2)
                var index = fields[2].startIndex
                while index < fields[2].endIndex {
                    let next = fields[2].index(index, offsetBy: 2, limitedBy: fields[2].endIndex) ?? fields[2].endIndex
                    guard let byte = UInt8(fields[2][index..<next], radix: 16) else { throw FixtureError(line: String(line)) }
                    bytes.append(byte)
                    index = next
                }
                // Kernel-like timestamps: an arbitrary boot offset plus the recorded time.
                chunks.append(Chunk(connection: connection, stream: fields[0] == "c" ? .requests : .responses,
                                    timestamp: 1_000_000_000 + offset, bytes: bytes))
            }
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

// `operations`, `decodeErrors` and `starts` come with the HTTP/2 tests' support.
extension Array where Element == ProtocolOutput {
    /// Reasons of what decoders do not read by design (`ProtocolOutput.opaque`).
    var opaqueReasons: [String] {
        compactMap { if case .opaque(let reason) = $0 { reason } else { nil } }
    }

    /// Whether every operation with an exchange id was announced first under it, at its
    /// start (those reported without one — a failed prepare, a statement whose request was
    /// not captured — were never announced).
    var announcesEveryOperation: Bool {
        var announced: [UInt64: RequestStart] = [:]
        for item in self {
            switch item {
            case .requestStarted(let start): announced[start.exchangeID] = start
            case .operation(let operation):
                guard let id = operation.exchangeID else { continue }
                guard let start = announced.removeValue(forKey: id),
                      start.timestamp == operation.start, start.tid == operation.tid else { return false }
            default: break
            }
        }
        return true
    }

    /// Whether every announced request ended in an operation.
    var reportsEveryAnnouncement: Bool {
        Set(starts.map(\.exchangeID)) == Set(operations.compactMap(\.exchangeID))
    }

    var lostSyncs: Int {
        count { if case .lostSync = $0 { true } else { false } }
    }
}

extension ProtocolOperation {
    // `attribute(_:)` comes with the HTTP/2 tests' support.
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
