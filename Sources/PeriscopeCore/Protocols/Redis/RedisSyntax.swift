/// Small pieces of RESP syntax shared by the readers.
enum RedisSyntax {
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// A decimal integer, optionally negative, of at most 19 digits; nil otherwise.
    static func integer(_ text: ArraySlice<UInt8>) -> Int? {
        var digits = text
        var negative = false
        if digits.first == UInt8(ascii: "-") {
            negative = true
            digits = digits.dropFirst()
        } else if digits.first == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// ASCII uppercase of a command or subcommand name; nil when longer than 32 bytes.
    static func uppercased(_ name: ArraySlice<UInt8>) -> String? {
        SQLSanitizer.uppercased(name)
    }
}
