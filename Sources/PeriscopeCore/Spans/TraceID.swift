/// A 16-byte W3C trace id.
public struct TraceID: Hashable, Sendable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "TraceID takes 16 bytes")
        self.bytes = bytes
    }

    /// A random, non-zero trace id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> TraceID {
        var bytes = [UInt8](repeating: 0, count: 16)
        repeat {
            for i in bytes.indices { bytes[i] = UInt8.random(in: .min ... .max, using: &generator) }
        } while bytes.allSatisfy { $0 == 0 }
        return TraceID(bytes: bytes)
    }

    /// 32 lowercase hex digits.
    public var hex: String { bytes.hexString }

    /// Parses 32 hex digits; nil for anything else or for the all-zero id.
    public init?(hex: some StringProtocol) {
        guard let bytes = [UInt8](hexString: hex), bytes.count == 16, !bytes.allSatisfy({ $0 == 0 }) else {
            return nil
        }
        self.bytes = bytes
    }
}

/// An 8-byte W3C span id.
public struct SpanID: Hashable, Sendable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 8, "SpanID takes 8 bytes")
        self.bytes = bytes
    }

    /// A random, non-zero span id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SpanID {
        var bytes = [UInt8](repeating: 0, count: 8)
        repeat {
            for i in bytes.indices { bytes[i] = UInt8.random(in: .min ... .max, using: &generator) }
        } while bytes.allSatisfy { $0 == 0 }
        return SpanID(bytes: bytes)
    }

    /// 16 lowercase hex digits.
    public var hex: String { bytes.hexString }

    /// Parses 16 hex digits; nil for anything else or for the all-zero id.
    public init?(hex: some StringProtocol) {
        guard let bytes = [UInt8](hexString: hex), bytes.count == 8, !bytes.allSatisfy({ $0 == 0 }) else {
            return nil
        }
        self.bytes = bytes
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase or uppercase hex digits, even count; nil otherwise.
    init?(hexString: some StringProtocol) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = value(utf8[i]), let lo = value(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        self = out
    }
}
