/// A minimal protobuf reader for checking what the encoders wrote: fields by number,
/// in order, with their raw payloads.
struct ProtobufReader {
    enum Value: Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes([UInt8])
        case fixed32(UInt32)
    }

    let fields: [(number: Int, value: Value)]

    init(_ bytes: [UInt8]) throws {
        var fields: [(Int, Value)] = []
        var index = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.count, shift < 64 else { throw ReadError() }
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while index < bytes.count {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 1:
                guard index + 8 <= bytes.count else { throw ReadError() }
                var value: UInt64 = 0
                for i in 0..<8 { value |= UInt64(bytes[index + i]) << (8 * UInt64(i)) }
                index += 8
                fields.append((number, .fixed64(value)))
            case 2:
                let length = Int(try varint())
                guard index + length <= bytes.count else { throw ReadError() }
                fields.append((number, .bytes(Array(bytes[index..<(index + length)]))))
                index += length
            case 5:
                guard index + 4 <= bytes.count else { throw ReadError() }
                var value: UInt32 = 0
                for i in 0..<4 { value |= UInt32(bytes[index + i]) << (8 * UInt32(i)) }
                index += 4
                fields.append((number, .fixed32(value)))
            default: throw ReadError()
            }
        }
        self.fields = fields
    }

    struct ReadError: Error {}

    func all(_ number: Int) -> [Value] { fields.filter { $0.number == number }.map(\.value) }

    func message(_ number: Int) throws -> ProtobufReader {
        guard case .bytes(let bytes)? = all(number).first else { throw ReadError() }
        return try ProtobufReader(bytes)
    }

    func messages(_ number: Int) throws -> [ProtobufReader] {
        try all(number).map { value in
            guard case .bytes(let bytes) = value else { throw ReadError() }
            return try ProtobufReader(bytes)
        }
    }

    func string(_ number: Int) -> String? {
        guard case .bytes(let bytes)? = all(number).first else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    func bytes(_ number: Int) -> [UInt8]? {
        guard case .bytes(let bytes)? = all(number).first else { return nil }
        return bytes
    }

    func varint(_ number: Int) -> UInt64? {
        guard case .varint(let value)? = all(number).first else { return nil }
        return value
    }

    func fixed64(_ number: Int) -> UInt64? {
        guard case .fixed64(let value)? = all(number).first else { return nil }
        return value
    }

    /// `KeyValue` list → key: AnyValue reader.
    func attributes(_ number: Int) throws -> [String: ProtobufReader] {
        var result: [String: ProtobufReader] = [:]
        for kv in try messages(number) {
            result[kv.string(1) ?? ""] = try kv.message(2)
        }
        return result
    }
}
