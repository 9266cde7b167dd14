/// JSON string literals (RFC 8259 §7). Swift strings are always valid Unicode: bytes that
/// were not UTF-8 were already replaced with U+FFFD when the string was decoded.
enum JSONString {
    static func quoted(_ string: String) -> String {
        var bytes: [UInt8] = []
        write(string, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `string` as a JSON string literal. Plain ASCII (the common case) is copied
    /// as it is; only characters JSON or JavaScript cannot carry raw are escaped.
    static func write(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        writeContents(string, into: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// `write` without the quotes.
    static func writeContents(_ string: String, into out: inout [UInt8]) {
        var string = string
        string.withUTF8 { utf8 in
            // One pass to find the first byte that may need escaping; none, the usual case,
            // and the string is appended whole.
            guard let first = utf8.firstIndex(where: mayNeedEscape) else {
                out.append(contentsOf: utf8)
                return
            }
            var plainStart = 0
            var index = first
            while index < utf8.count {
                let byte = utf8[index]
                guard mayNeedEscape(byte) else {
                    index += 1
                    continue
                }
                let escape: [UInt8]?
                var width = 1
                switch byte {
                case UInt8(ascii: "\""): escape = Array(#"\""#.utf8)
                case UInt8(ascii: "\\"): escape = Array(#"\\"#.utf8)
                case 0x0A: escape = Array(#"\n"#.utf8)
                case 0x0D: escape = Array(#"\r"#.utf8)
                case 0x09: escape = Array(#"\t"#.utf8)
                case 0x08: escape = Array(#"\b"#.utf8)
                case 0x0C: escape = Array(#"\f"#.utf8)
                case 0x00...0x1F, 0x7F: escape = unicodeEscape(UInt32(byte))
                case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                    escape = unicodeEscape(utf8[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                    width = 3
                default: escape = nil
                }
                if let escape {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<index]))
                    out.append(contentsOf: escape)
                    plainStart = index + width
                }
                index += width
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<utf8.count]))
        }
    }

    /// Quotes, backslashes, controls, DEL, and the lead byte of U+2028/U+2029.
    @inline(__always)
    static func mayNeedEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F || byte == 0xE2
    }

    private static func unicodeEscape(_ value: UInt32) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        return [UInt8(ascii: "\\"), UInt8(ascii: "u"), hex[Int(value >> 12 & 0xf)], hex[Int(value >> 8 & 0xf)],
                hex[Int(value >> 4 & 0xf)], hex[Int(value & 0xf)]]
    }
}
