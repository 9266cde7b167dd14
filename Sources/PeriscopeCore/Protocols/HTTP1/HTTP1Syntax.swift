/// Byte classes of HTTP/1.x syntax (RFC 9110 §5.6, RFC 9112).
enum HTTP1Syntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")

    /// `tchar`: the characters of a method or header name.
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2a, 0x2b, 0x2d, 0x2e, 0x5e, 0x5f, 0x60, 0x7c, 0x7e:
            return true  // ! # $ % & ' * + - . ^ _ ` | ~
        default:
            return false
        }
    }

    /// `isToken` as two 64-bit masks (bytes 0–63 and 64–127), for loops over every byte of a name.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        let mask: UInt64 = byte < 64 ? 0x03ff_6cfa_0000_0000 : byte < 128 ? 0x57ff_ffff_c7ff_fffe : 0
        return mask >> (byte & 63) & 1 == 1
    }

    /// Bytes a head may contain: visible ASCII, space, tab, CR, LF and obs-text.
    static func isAllowedInHead(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != 0x7f || byte == tab || byte == cr || byte == lf
    }

    /// Letters, digits, `+`, `-` and `.`: the characters of a URI scheme.
    static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The bytes without leading and trailing spaces and tabs.
    static func trimmed<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Bytes.SubSequence {
        var slice = bytes[...]
        while let first = slice.first, first == space || first == tab { slice.removeFirst() }
        while let last = slice.last, last == space || last == tab { slice.removeLast() }
        return slice
    }

    /// `HTTP/1.0` → the minor version digit `0`; nil for anything but HTTP/1.x.
    static func minorVersion<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> UInt8? {
        guard bytes.count == versionPrefix.count + 1, bytes.starts(with: versionPrefix),
              let minor = bytes.last, isDigit(minor)
        else { return nil }
        return minor
    }

    private static let versionPrefix = Array("HTTP/1.".utf8)

    /// Decimal digits only, at most 18 of them.
    static func decimal<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy(isDigit) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
