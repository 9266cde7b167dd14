/// A 16-byte W3C trace id, stored inline (no allocation per span).
public struct TraceID: Hashable, Sendable {
    /// Bytes 0–7, big-endian.
    public var high: UInt64
    /// Bytes 8–15, big-endian.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "TraceID takes 16 bytes")
        self.init(high: UInt64(bigEndianBytes: bytes[0..<8]), low: UInt64(bigEndianBytes: bytes[8..<16]))
    }

    public var bytes: [UInt8] { high.bigEndianBytes + low.bigEndianBytes }

    /// A random, non-zero trace id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> TraceID {
        var id: TraceID
        repeat { id = TraceID(high: generator.next(), low: generator.next()) } while id.high == 0 && id.low == 0
        return id
    }

    /// 32 lowercase hex digits.
    public var hex: String {
        var digits: [UInt8] = []
        writeHex(into: &digits)
        return String(decoding: digits, as: UTF8.self)
    }

    /// Appends the 32 lowercase hex digits to `bytes`.
    public func writeHex(into bytes: inout [UInt8]) {
        high.appendHexDigits(to: &bytes)
        low.appendHexDigits(to: &bytes)
    }

    /// Parses 32 hex digits; nil for anything else or for the all-zero id.
    public init?(hex: some StringProtocol) {
        guard let bytes = [UInt8](hexString: hex), bytes.count == 16, !bytes.allSatisfy({ $0 == 0 }) else {
            return nil
        }
        self.init(bytes: bytes)
    }
}

/// An 8-byte W3C span id, stored inline.
public struct SpanID: Hashable, Sendable {
    /// The eight bytes, big-endian.
    public var value: UInt64

    public init(value: UInt64) {
        self.value = value
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 8, "SpanID takes 8 bytes")
        self.init(value: UInt64(bigEndianBytes: bytes[...]))
    }

    public var bytes: [UInt8] { value.bigEndianBytes }

    /// A random, non-zero span id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SpanID {
        var value: UInt64
        repeat { value = generator.next() } while value == 0
        return SpanID(value: value)
    }

    /// 16 lowercase hex digits.
    public var hex: String {
        var digits: [UInt8] = []
        writeHex(into: &digits)
        return String(decoding: digits, as: UTF8.self)
    }

    /// Appends the 16 lowercase hex digits to `bytes`.
    public func writeHex(into bytes: inout [UInt8]) {
        value.appendHexDigits(to: &bytes)
    }

    /// Parses 16 hex digits; nil for anything else or for the all-zero id.
    public init?(hex: some StringProtocol) {
        guard let bytes = [UInt8](hexString: hex), bytes.count == 8, !bytes.allSatisfy({ $0 == 0 }) else {
            return nil
        }
        self.init(bytes: bytes)
    }
}

extension UInt64 {
    /// Eight bytes, most significant first.
    init(bigEndianBytes bytes: ArraySlice<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    var bigEndianBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * $0)) }
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

extension UInt64 {
    /// Appends the value as 16 lowercase hex digits, most significant first.
    func appendHexDigits(to bytes: inout [UInt8]) {
        var digits: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: self >> UInt64(60 - 4 * index)) & 0xF
                raw[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(raw))
        }
    }
}
