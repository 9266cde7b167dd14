/// Bytes written through a pointer into room reserved beforehand (`[UInt8].writeReserved`):
/// a span's JSON goes out without a capacity or uniqueness check per piece. Every write
/// still checks the room left, so a reservation too small stops the process rather than
/// writing past it.
struct ReservedBytes {
    private(set) var cursor: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        cursor = buffer.baseAddress!
        end = cursor + buffer.count
    }

    @inline(__always)
    private func room(_ count: Int) {
        precondition(end - cursor >= count, "reserved output room exceeded")
    }

    @inline(__always)
    mutating func byte(_ byte: UInt8) {
        room(1)
        cursor.pointee = byte
        cursor += 1
    }

    @inline(__always)
    mutating func bytes(_ text: StaticString) {
        bytes(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func bytes(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress else { return }
        room(buffer.count)
        cursor.update(from: base, count: buffer.count)
        cursor += buffer.count
    }

    /// `value` in decimal, at most 20 bytes: two digits per division, written backwards
    /// into the room and moved into place.
    mutating func decimal(_ value: UInt64) {
        room(20)
        var index = 20
        var rest = value
        Self.digitPairs.withUTF8Buffer { pairs in
            while rest >= 100 {
                let pair = Int(truncatingIfNeeded: rest % 100) * 2
                rest /= 100
                index -= 2
                cursor[index] = pairs[pair]
                cursor[index + 1] = pairs[pair + 1]
            }
            if rest >= 10 {
                let pair = Int(truncatingIfNeeded: rest) * 2
                index -= 2
                cursor[index] = pairs[pair]
                cursor[index + 1] = pairs[pair + 1]
            } else {
                index -= 1
                cursor[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest)
            }
        }
        let digits = 20 - index
        if index > 0 { cursor.update(from: cursor + index, count: digits) }
        cursor += digits
    }

    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    /// `value` as a JSON number, at most 21 bytes.
    mutating func decimal(_ value: Int) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(UInt64(value.magnitude))
    }

    /// 16 lowercase hex digits.
    mutating func hex(_ value: UInt64) {
        room(16)
        for index in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0xF
            cursor[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
        }
        cursor += 16
    }

    /// An IPv4-mapped address's dotted quad, at most 15 bytes.
    mutating func ipv4(_ address: SocketAddress) {
        room(15)
        for shift in stride(from: 24, through: 0, by: -8) {
            let octet = UInt8(truncatingIfNeeded: address.low >> UInt64(shift))
            if octet >= 100 {
                cursor.pointee = UInt8(ascii: "0") + octet / 100
                cursor += 1
            }
            if octet >= 10 {
                cursor.pointee = UInt8(ascii: "0") + octet / 10 % 10
                cursor += 1
            }
            cursor.pointee = UInt8(ascii: "0") + octet % 10
            cursor += 1
            if shift > 0 {
                cursor.pointee = UInt8(ascii: ".")
                cursor += 1
            }
        }
    }

    /// `,"key":` (without the comma when `first`) for a constant key, which is plain ASCII
    /// with nothing to escape: one room check for the whole piece.
    @inline(__always)
    mutating func memberKey(_ key: StaticString, first: Bool) {
        let count = key.utf8CodeUnitCount
        room(count + 4)
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

    /// `string` as a JSON string literal: at most 6 bytes per UTF-8 byte, plus the quotes.
    mutating func jsonString(_ string: String) {
        byte(UInt8(ascii: "\""))
        jsonStringContents(string)
        byte(UInt8(ascii: "\""))
    }

    /// `jsonString` without the quotes; runs of plain bytes are copied whole.
    mutating func jsonStringContents(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            var plainStart = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                guard JSONString.mayNeedEscape(byte) else {
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
    }

    private mutating func unicodeEscape(_ value: UInt32) {
        room(6)
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

extension Array where Element == UInt8 {
    /// Appends what `body` writes into `room` bytes reserved at the end: the room is
    /// zero-filled, handed to `body`, and what it did not use is dropped.
    mutating func writeReserved(room: Int, _ body: (inout ReservedBytes) -> Void) {
        let start = count
        append(contentsOf: repeatElement(0, count: room))
        let used = withUnsafeMutableBufferPointer { buffer -> Int in
            var writer = ReservedBytes(UnsafeMutableBufferPointer(rebasing: buffer[start...]))
            body(&writer)
            return writer.cursor - (buffer.baseAddress! + start)
        }
        removeLast(room - used)
    }
}

