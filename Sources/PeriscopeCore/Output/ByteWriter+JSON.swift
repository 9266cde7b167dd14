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
        (cursor + 1).initialize(from: key.utf8Start, count: count)
        cursor[count + 1] = UInt8(ascii: "\"")
        cursor[count + 2] = UInt8(ascii: ":")
        cursor += count + 3
    }

    /// `,"key":"value"` (without the comma when `first`) for a constant key and value,
    /// both plain ASCII with nothing to escape.
    @inline(__always)
    mutating func member(_ key: StaticString, constant value: StaticString, first: Bool) {
        let valueCount = value.utf8CodeUnitCount
        memberKey(key, first: first)
        reserve(valueCount + 2)
        cursor.pointee = UInt8(ascii: "\"")
        (cursor + 1).initialize(from: value.utf8Start, count: valueCount)
        cursor[valueCount + 1] = UInt8(ascii: "\"")
        cursor += valueCount + 2
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
    /// may need escaping, eight bytes at a time, the last eight (or, below eight bytes, the
    /// first and last four) loaded overlapping what came before; the first word that may
    /// need escaping hands the rest to `jsonEscapedContents`.
    mutating func jsonStringContents(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let source = utf8.baseAddress else { return }
        let count = utf8.count
        reserve(count)
        let raw = UnsafeRawPointer(source)
        let target = UnsafeMutableRawPointer(cursor)
        if count >= 8 {
            var index = 0
            while index &+ 8 < count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if Self.mayNeedEscape(word) { return escapeFrom(index, of: utf8) }
                target.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
                index &+= 8
            }
            let last = raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            if Self.mayNeedEscape(last) { return escapeFrom(index, of: utf8) }
            target.storeBytes(of: last, toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 4 {
            let first = raw.loadUnaligned(as: UInt32.self)
            let last = raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            if Self.mayNeedEscape(UInt64(first) | UInt64(last) << 32) { return escapeFrom(0, of: utf8) }
            target.storeBytes(of: first, as: UInt32.self)
            target.storeBytes(of: last, toByteOffset: count &- 4, as: UInt32.self)
        } else if count > 0 {
            // The first, middle and last bytes (some the same), the rest of the word plain.
            let (first, middle, last) = (source[0], source[count >> 1], source[count &- 1])
            let word = 0x4141_4141_4100_0000 | UInt64(first) | UInt64(middle) << 8 | UInt64(last) << 16
            if Self.mayNeedEscape(word) { return escapeFrom(0, of: utf8) }
            cursor[0] = first
            cursor[count >> 1] = middle
            cursor[count &- 1] = last
        }
        cursor += count
    }

    /// Everything before `index` copied as it is, the rest through `jsonEscapedContents`.
    private mutating func escapeFrom(_ index: Int, of utf8: UnsafeBufferPointer<UInt8>) {
        cursor += index
        jsonEscapedContents(UnsafeBufferPointer(rebasing: utf8[index...]))
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
