@testable import PeriscopeCore

/// Builds HTTP/2 frames and HPACK blocks for tests, as a peer would send them.
enum H2 {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags]
            + bigEndian(stream) + payload
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// An HPACK integer with an N-bit prefix, `flags` in the bits above it.
    static func integer(_ value: Int, prefixBits: Int, flags: UInt8 = 0) -> [UInt8] {
        let max = (1 << prefixBits) - 1
        guard value >= max else { return [flags | UInt8(value)] }
        var rest = value - max
        var bytes = [flags | UInt8(max)]
        while rest >= 128 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        return bytes + [UInt8(rest)]
    }

    static func string(_ text: String) -> [UInt8] {
        integer(text.utf8.count, prefixBits: 7) + Array(text.utf8)
    }

    enum Field {
        /// Literal with a literal name, not indexed (or with incremental indexing).
        case literal(String, String, indexed: Bool = false)
        /// Fully indexed field (static 1–61 or dynamic 62…).
        case index(Int)
        /// Literal with an indexed name.
        case named(Int, String, indexed: Bool = false)
        case tableSizeUpdate(Int)
    }

    static func block(_ fields: [Field]) -> [UInt8] {
        var bytes: [UInt8] = []
        for field in fields {
            switch field {
            case .literal(let name, let value, let indexed):
                bytes += (indexed ? [0x40] : [0x00]) + string(name) + string(value)
            case .index(let index):
                bytes += integer(index, prefixBits: 7, flags: 0x80)
            case .named(let index, let value, let indexed):
                bytes += (indexed ? integer(index, prefixBits: 6, flags: 0x40) : integer(index, prefixBits: 4)) + string(value)
            case .tableSizeUpdate(let size):
                bytes += integer(size, prefixBits: 5, flags: 0x20)
            }
        }
        return bytes
    }

    static func block(_ fields: [(String, String)]) -> [UInt8] {
        block(fields.map { .literal($0.0, $0.1) })
    }

    static func headers(_ stream: UInt32, _ fields: [(String, String)], endStream: Bool = false) -> [UInt8] {
        headers(stream, block: block(fields), endStream: endStream)
    }

    static func headers(_ stream: UInt32, block: [UInt8], endStream: Bool = false) -> [UInt8] {
        frame(0x1, flags: 0x4 | (endStream ? 0x1 : 0), stream: stream, block)
    }

    static func request(
        _ stream: UInt32, _ method: String = "GET", _ path: String = "/", authority: String = "example.com",
        extra: [(String, String)] = [], endStream: Bool = true
    ) -> [UInt8] {
        headers(stream, [(":method", method), (":scheme", "http"), (":path", path), (":authority", authority)] + extra, endStream: endStream)
    }

    static func response(_ stream: UInt32, status: Int = 200, extra: [(String, String)] = [], endStream: Bool = false) -> [UInt8] {
        headers(stream, [(":status", "\(status)")] + extra, endStream: endStream)
    }

    static func data(_ stream: UInt32, _ payload: [UInt8], endStream: Bool = false, padding: Int? = nil) -> [UInt8] {
        guard let padding else { return frame(0x0, flags: endStream ? 0x1 : 0, stream: stream, payload) }
        return frame(0x0, flags: 0x8 | (endStream ? 0x1 : 0), stream: stream, [UInt8(padding)] + payload + [UInt8](repeating: 0, count: padding))
    }

    static func data(_ stream: UInt32, size: Int, endStream: Bool = false, padding: Int? = nil) -> [UInt8] {
        data(stream, [UInt8](repeating: 0x61, count: size), endStream: endStream, padding: padding)
    }

    static func settings(_ parameters: [(UInt16, UInt32)] = []) -> [UInt8] {
        frame(0x4, stream: 0, parameters.flatMap { [UInt8($0.0 >> 8), UInt8($0.0 & 0xff)] + bigEndian($0.1) })
    }

    static let settingsAck = frame(0x4, flags: 0x1, stream: 0)

    static func reset(_ stream: UInt32, code: UInt32) -> [UInt8] { frame(0x3, stream: stream, bigEndian(code)) }

    static func goAway(lastStream: UInt32, code: UInt32) -> [UInt8] { frame(0x7, stream: 0, bigEndian(lastStream) + bigEndian(code)) }

    static func ping(ack: Bool = false) -> [UInt8] { frame(0x6, flags: ack ? 1 : 0, stream: 0, [UInt8](repeating: 7, count: 8)) }

    static func windowUpdate(_ stream: UInt32, _ increment: UInt32) -> [UInt8] { frame(0x8, stream: stream, bigEndian(increment)) }

    /// A gRPC message: compressed flag, four-byte length, payload.
    static func grpcMessage(_ size: Int) -> [UInt8] {
        [0] + bigEndian(UInt32(size)) + [UInt8](repeating: 0x08, count: size)
    }
}

/// Feeds segments to one decoder and collects what it reports.
struct H2Conversation {
    var decoder = HTTP2Decoder()
    var output: [ProtocolOutput] = []
    var clock: UInt64 = 1_000

    init(decoder: HTTP2Decoder = HTTP2Decoder()) {
        self.decoder = decoder
    }

    /// The client's bytes, one segment (or split at `splits`), each at the next tick.
    mutating func client(_ bytes: [UInt8], gap: Int = 0, tid: Int32 = 7) {
        send(.requests, bytes, gap: gap, tid: tid)
    }

    mutating func server(_ bytes: [UInt8], gap: Int = 0, tid: Int32 = 9) {
        send(.responses, bytes, gap: gap, tid: tid)
    }

    mutating func send(_ stream: MessageStream, _ bytes: [UInt8], gap: Int = 0, tid: Int32) {
        clock += 1_000
        decoder.receive(ProtocolSegment(stream: stream, bytes: bytes[...], gap: gap, timestamp: clock, tid: tid), into: &output)
    }

    mutating func finish(reason: String = "connection closed") {
        clock += 1_000
        decoder.finish(at: clock, reason: reason, into: &output)
    }

    var operations: [ProtocolOperation] {
        output.compactMap { if case .operation(let operation) = $0 { operation } else { nil } }
    }

    var starts: [RequestStart] {
        output.compactMap { if case .requestStarted(let start) = $0 { start } else { nil } }
    }

    var errors: [String] {
        output.compactMap { if case .decodeError(let reason) = $0 { reason } else { nil } }
    }
}

extension ProtocolOperation {
    func attribute(_ key: String) -> AttributeValue? {
        attributes.first { $0.key == key }?.value
    }

    /// The status of the server's or the client's span, as the tracker reads it.
    func spanStatus(server: Bool) -> Span.Status {
        server ? status : clientStatus ?? status
    }
}
