import FoundationEssentials

/// Splits a watch response body into events, whatever the chunk boundaries: the server writes one
/// JSON object per line; bytes are buffered until a newline completes one.
public struct WatchEventDecoder: Sendable {
    private var buffer: [UInt8] = []

    public init() {}

    /// Feeds received bytes; returns the complete event lines they finish (without newlines).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Data] {
        var lines: [Data] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if buffer.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) {
                    lines.append(Data(buffer))
                }
                buffer.removeAll(keepingCapacity: true)
            } else {
                buffer.append(byte)
            }
        }
        return lines
    }

    /// At end of stream: a final event not followed by a newline (the server may omit it).
    public mutating func finish() -> Data? {
        defer { buffer.removeAll() }
        let trimmed = buffer.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }
        return trimmed.isEmpty ? nil : Data(buffer)
    }

    /// Decodes one event line.
    public static func decode<Object: KubeObject>(_ line: Data, as type: Object.Type = Object.self) throws -> WatchEvent<Object> {
        let decoder = JSONDecoder()
        do {
            let head = try decoder.decode(Head.self, from: line)
            switch head.type {
            case "ADDED": return .added(try decoder.decode(Envelope<Object>.self, from: line).object)
            case "MODIFIED": return .modified(try decoder.decode(Envelope<Object>.self, from: line).object)
            case "DELETED": return .deleted(try decoder.decode(Envelope<Object>.self, from: line).object)
            case "BOOKMARK":
                let object = try decoder.decode(Envelope<VersionOnly>.self, from: line).object
                return .bookmark(resourceVersion: object.metadata?.resourceVersion ?? "")
            case "ERROR": return .error(try decoder.decode(Envelope<KubeStatus>.self, from: line).object)
            default:
                throw KubeAPIError(code: .decoding, message: "unknown watch event type \(head.type)")
            }
        } catch let error as KubeAPIError {
            throw error
        } catch {
            throw KubeAPIError(
                code: .decoding, message: "cannot decode watch event: \(String(decoding: line.prefix(200), as: UTF8.self))",
                cause: DecodingFailure(description: "\(error)"))
        }
    }
}

private struct Head: Decodable { var type: String }
private struct Envelope<Body: Decodable>: Decodable { var object: Body }
private struct VersionOnly: Decodable {
    struct Meta: Decodable { var resourceVersion: String? }
    var metadata: Meta?
}

/// A decoding error's description (Swift's `DecodingError` is not `Sendable`).
public struct DecodingFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}
