/// JSON pieces: member keys and string literals (RFC 8259 §7). Swift strings are always
/// valid Unicode: bytes that were not UTF-8 were already replaced with U+FFFD when the
/// string was decoded.
extension ByteWriter {
    /// `,"key":` (without the comma when `first`) for a constant key, which is plain ASCII
    /// with nothing to escape.
    @inline(__always)
    mutating func memberKey(_ key: StaticString, first: Bool) {
        let count = key.utf8CodeUnitCount
        reserve(count + 4)
        if !first {
            cursor.pointee = UInt8(ascii: ",")
            cursor += 1
        }
        cursor.pointee = UInt8(ascii: "\"")
        (cursor + 1).update(from: key.utf8Start, count: count)
        cursor[count + 1] = UInt8(ascii: "\"")
        cursor[count + 2] = UInt8(ascii: ":")
        cursor += count + 3
    }

    /// `string` as a JSON string literal.
    @inline(__always)
    mutating func jsonString(_ string: String) {
        byte(UInt8(ascii: "\""))
        jsonStringContents(string)
        byte(UInt8(ascii: "\""))
    }

    /// `jsonString` without the quotes.
    @inline(__always)
    mutating func jsonStringContents(_ string: String) {
        // Native and small strings lend their bytes without a copy.
        let lent: Void? = string.utf8.withContiguousStorageIfAvailable { jsonStringContents($0) }
        if lent == nil {
            var string = string
            string.withUTF8 { jsonStringContents($0) }
        }
    }

    /// UTF-8 `utf8` as the inside of a JSON string literal. Copied as it is while no byte
    /// may need escaping, eight bytes at a time, then byte by byte; the first that may
    /// need it hands the rest to `jsonEscapedContents`.
    mutating func jsonStringContents(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let source = utf8.baseAddress else { return }
        let count = utf8.count
        reserve(count)
        var index = 0
        while index &+ 8 <= count {
            let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
            if Self.mayNeedEscape(word) { break }
            UnsafeMutableRawPointer(cursor + index).storeBytes(of: word, as: UInt64.self)
            index &+= 8
        }
        while index < count {
            let byte = source[index]
            if Self.mayNeedEscape(byte) { break }
            cursor[index] = byte
            index &+= 1
        }
        cursor += index
        if index < count {
            jsonEscapedContents(UnsafeBufferPointer(rebasing: utf8[index...]))
        }
    }

    /// Quotes, backslashes, controls, DEL and every byte above ASCII (which
    /// `jsonEscapedContents` looks at closely: only U+2028 and U+2029 are escaped).
    @inline(__always)
    static func mayNeedEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte >= 0x7F
    }

    /// Whether any of the eight bytes of `word` is one `mayNeedEscape(_:)` names.
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        // A byte below n (n ≤ 0x80) borrows into its high bit when n is subtracted; a byte
        // equal to c is zero after xor with c.
        func anyBelow(_ word: UInt64, _ n: UInt64) -> UInt64 { (word &- ones &* n) & ~word & highBits }
        func anyZero(_ word: UInt64) -> UInt64 { anyBelow(word, 1) }
        let flagged = anyBelow(word, 0x20) | word & highBits
            | anyZero(word ^ ones &* 0x22) | anyZero(word ^ ones &* 0x5C) | anyZero(word ^ ones &* 0x7F)
        return flagged != 0
    }

    /// The escaping path, from a byte that may need it on: runs of plain bytes are copied
    /// whole, the rest escaped as JSON and JavaScript need.
    @inline(never)
    mutating func jsonEscapedContents(_ utf8: UnsafeBufferPointer<UInt8>) {
        var plainStart = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            guard Self.mayNeedEscape(byte) else {
                index += 1
                continue
            }
            var width = 1
            let escape: StaticString?
            var unicode: UInt32?
            switch byte {
            case UInt8(ascii: "\""): escape = #"\""#
            case UInt8(ascii: "\\"): escape = #"\\"#
            case 0x0A: escape = #"\n"#
            case 0x0D: escape = #"\r"#
            case 0x09: escape = #"\t"#
            case 0x08: escape = #"\b"#
            case 0x0C: escape = #"\f"#
            case 0x00...0x1F, 0x7F:
                escape = nil
                unicode = UInt32(byte)
            case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                escape = nil
                unicode = utf8[index + 2] == 0xA8 ? 0x2028 : 0x2029
                width = 3
            default:
                escape = nil
            }
            if escape != nil || unicode != nil {
                bytes(UnsafeBufferPointer(rebasing: utf8[plainStart..<index]))
                if let escape { bytes(escape) }
                if let unicode { unicodeEscape(unicode) }
                plainStart = index + width
            }
            index += width
        }
        bytes(UnsafeBufferPointer(rebasing: utf8[plainStart..<utf8.count]))
    }

    private mutating func unicodeEscape(_ value: UInt32) {
        reserve(6)
        let hex: StaticString = "0123456789abcdef"
        let digits = hex.utf8Start
        cursor[0] = UInt8(ascii: "\\")
        cursor[1] = UInt8(ascii: "u")
        cursor[2] = digits[Int(value >> 12 & 0xf)]
        cursor[3] = digits[Int(value >> 8 & 0xf)]
        cursor[4] = digits[Int(value >> 4 & 0xf)]
        cursor[5] = digits[Int(value & 0xf)]
        cursor += 6
    }
}
