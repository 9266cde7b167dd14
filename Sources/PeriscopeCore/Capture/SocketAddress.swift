/// An IP address and TCP port. IPv4 addresses are kept as IPv4-mapped IPv6 bytes
/// so one representation serves both families.
public struct SocketAddress: Hashable, Sendable {
    /// Address bytes 0–7 and 8–15, most significant first; stored inline so that an event
    /// or a span costs no allocation per address.
    public var high: UInt64
    public var low: UInt64
    public var port: UInt16

    public static let unspecified = SocketAddress(high: 0, low: 0, port: 0)

    public init(high: UInt64, low: UInt64, port: UInt16) {
        self.high = high
        self.low = low
        self.port = port
    }

    /// 16 bytes, network order. IPv4 is `::ffff:a.b.c.d`.
    public init(address: [UInt8], port: UInt16) {
        precondition(address.count == 16, "SocketAddress takes 16 address bytes")
        self.init(high: UInt64(bigEndianBytes: address[0..<8]), low: UInt64(bigEndianBytes: address[8..<16]), port: port)
    }

    /// An IPv4 address given as four octets.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.init(address: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d], port: port)
    }

    /// 16 bytes, network order.
    public var address: [UInt8] { high.bigEndianBytes + low.bigEndianBytes }

    public var isIPv4: Bool {
        high == 0 && low >> 32 == 0xffff
    }

    /// `127.0.0.1` or `::1` (IPv6 in RFC 5952 shortest form).
    public var host: String {
        if isIPv4 {
            var text: [UInt8] = []
            text.reserveCapacity(15)
            writeIPv4(into: &text)
            return String(decoding: text, as: UTF8.self)
        }
        let address = self.address
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(UInt16(address[i]) << 8 | UInt16(address[i + 1]))
        }
        // Longest run of two or more zero groups is compressed to "::".
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength, i - runStart >= 2 { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String {
            slice.map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(groups[...]) }
        return hex(groups[..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }

    /// `127.0.0.1:8080` or `[::1]:8080`.
    public var description: String {
        var text: [UInt8] = []
        write(into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `description` as UTF-8; IPv4, the common case, without building strings.
    public func write(into text: inout [UInt8]) {
        if isIPv4 {
            writeIPv4(into: &text)
        } else {
            text.append(UInt8(ascii: "["))
            text.append(contentsOf: host.utf8)
            text.append(UInt8(ascii: "]"))
        }
        text.append(UInt8(ascii: ":"))
        Self.writeDecimal(UInt32(port), into: &text)
    }

    /// Appends `host` as UTF-8; IPv4, the common case, without building a string.
    public func writeHost(into text: inout [UInt8]) {
        if isIPv4 {
            writeIPv4(into: &text)
        } else {
            text.append(contentsOf: host.utf8)
        }
    }

    private func writeIPv4(into text: inout [UInt8]) {
        // At most 15 bytes, built on the stack and appended at once.
        var bytes: (UInt64, UInt64) = (0, 0)
        let count = withUnsafeMutableBytes(of: &bytes) { raw -> Int in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = UInt8(truncatingIfNeeded: low >> UInt64(shift))
                if octet >= 100 {
                    raw[count] = UInt8(ascii: "0") + octet / 100
                    count += 1
                }
                if octet >= 10 {
                    raw[count] = UInt8(ascii: "0") + octet / 10 % 10
                    count += 1
                }
                raw[count] = UInt8(ascii: "0") + octet % 10
                count += 1
                if shift > 0 {
                    raw[count] = UInt8(ascii: ".")
                    count += 1
                }
            }
            return count
        }
        withUnsafeBytes(of: &bytes) { text.append(contentsOf: $0.prefix(count)) }
    }

    private static func writeDecimal(_ value: UInt32, into text: inout [UInt8]) {
        if value >= 10 { writeDecimal(value / 10, into: &text) }
        text.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
