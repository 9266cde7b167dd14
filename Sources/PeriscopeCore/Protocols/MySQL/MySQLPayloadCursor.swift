/// Reads the fields of a MySQL payload in place; every read past the end gives nil.
struct MySQLPayloadCursor {
    let bytes: ArraySlice<UInt8>
    private(set) var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    var remaining: ArraySlice<UInt8> { bytes[min(index, bytes.endIndex)...] }

    mutating func byte() -> UInt8? {
        guard index < bytes.endIndex else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func uint16() -> UInt16? {
        guard let low = byte(), let high = byte() else { return nil }
        return UInt16(low) | UInt16(high) << 8
    }

    mutating func uint32() -> UInt32? {
        guard let low = uint16(), let high = uint16() else { return nil }
        return UInt32(low) | UInt32(high) << 16
    }

    /// A length-encoded integer; nil for the NULL marker, a truncated one or more than 2^62.
    mutating func lengthEncoded() -> Int? {
        guard let first = byte() else { return nil }
        switch first {
        case 0..<0xFB: return Int(first)
        case 0xFC: return uint16().map(Int.init)
        case 0xFD:
            guard let low = uint16(), let high = byte() else { return nil }
            return Int(low) | Int(high) << 16
        case 0xFE:
            guard let low = uint32(), let high = uint32(), high < 1 << 30 else { return nil }
            return Int(low) | Int(high) << 32
        default: return nil
        }
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, bytes.endIndex - index >= count else {
            index = bytes.endIndex
            return false
        }
        index += count
        return true
    }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        let start = index
        guard skip(count) else { return nil }
        return bytes[start..<index]
    }

    /// A NUL-terminated string, without its NUL.
    mutating func cString() -> ArraySlice<UInt8>? {
        guard index <= bytes.endIndex, let nul = bytes[index...].firstIndex(of: 0) else { return nil }
        defer { index = nul + 1 }
        return bytes[index..<nul]
    }
}
