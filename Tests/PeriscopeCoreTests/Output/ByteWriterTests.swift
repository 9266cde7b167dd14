import Testing
@testable import PeriscopeCore

@Suite struct ByteWriterTests {
    private func written(_ body: (inout ByteWriter) -> Void) -> String {
        var buffer = OutputBuffer(capacity: 1)
        body(&buffer.writer)
        return buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test func decimalsAtEveryDigitCountBoundary() {
        var values: [UInt64] = [0, 1, 9, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 10
        for _ in 1..<20 {
            values += [power - 1, power, power + 1]
            power = power &* 10
        }
        values.append(10_000_000_000_000_000_000)
        for value in values {
            #expect(written { $0.decimal(value) } == String(value))
        }
        for value in [0, -1, 42, -9_999, Int.max, Int.min] {
            #expect(written { $0.decimal(value) } == String(value))
        }
    }

    @Test func everyNumberBelowAThousandAndAroundIt() {
        let values = Array(-1_100...1_100) + [Int.min, Int.max, Int.min + 1]
        #expect(written { writer in
            for value in values {
                writer.decimal(value)
                writer.byte(UInt8(ascii: ","))
            }
        } == values.map { String(describing: $0) + "," }.joined())
    }

    /// An end written after its start, sharing the start's leading digits when only the last
    /// eight differ: the same text as written alone, whatever the two values.
    @Test func aDecimalSharingAnEarliersDigitsIsWrittenAsAlone() {
        var generator = SystemRandomNumberGenerator()
        var pairs: [(UInt64, UInt64)] = [
            (1_700_000_000_123_000_000, 1_700_000_000_135_345_678), (1_700_000_000_199_999_999, 1_700_000_000_200_000_000),
            (1_700_000_000_100_000_000, 1_700_000_000_100_000_000), (0, 5), (99_999_999, 100_000_000), (100_000_000, 199_999_999),
            (UInt64.max, UInt64.max - 1), (10_000_000_000_000_000, 10_000_000_099_999_999), (9_999_999_999_999_999, 9_999_999_999_999_998),
            (1_800_000_000_000_000_000, 1_700_000_000_000_000_000), (123_456_789_012, 123_456_700_000),
        ]
        for _ in 0..<5_000 {
            let bits = UInt64.random(in: 0...64, using: &generator)
            let start = UInt64.random(in: 0...UInt64.max, using: &generator) & (bits == 64 ? .max : 1 << bits - 1)
            let (end, _) = start.addingReportingOverflow(UInt64.random(in: 0...300_000_000, using: &generator))
            pairs.append((start, end))
        }
        let text = written { writer in
            for (start, end) in pairs {
                let offset = writer.count
                writer.decimal(start)
                let length = writer.count - offset
                writer.bytes(#"","endTimeUnixNano":""#)
                writer.decimal(end, sharingDigitsWith: start, writtenAt: offset, length: length)
                writer.byte(UInt8(ascii: ","))
            }
        }
        #expect(text == pairs.map { "\($0.0)\",\"endTimeUnixNano\":\"\($0.1)," }.joined())
    }

    @Test func removingTheFirstBytesKeepsTheRestInOrder() {
        var buffer = OutputBuffer(capacity: 16)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        buffer.append(bytes)
        buffer.removeFirst(300)
        #expect(buffer.bytes == Array(bytes[300...]))
        buffer.removeFirst(0)
        #expect(buffer.bytes == Array(bytes[300...]))
        buffer.append([1, 2])
        buffer.removeFirst(699)
        #expect(buffer.bytes == [bytes[999], 1, 2])
        buffer.removeFirst(10)
        #expect(buffer.count == 0)
    }

    @Test func hexIsSixteenLowercaseDigits() {
        for value: UInt64 in [0, 1, 0xa, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, .max, 0x9fa0_0af9_90a9_f0fa] {
            let expected = String(repeating: "0", count: 16 - String(value, radix: 16).count) + String(value, radix: 16)
            #expect(written { $0.hex(value) } == expected)
        }
    }

    @Test func ipv4DottedQuadsAndTheirLength() {
        for octets: [UInt8] in [[0, 0, 0, 0], [255, 255, 255, 255], [10, 0, 0, 1], [9, 10, 99, 100], [127, 0, 0, 1], [192, 168, 200, 250]] {
            let address = SocketAddress(ipv4: octets[0], octets[1], octets[2], octets[3], port: 1)
            let text = written { $0.ipv4(address) }
            #expect(text == address.host)
            #expect(ByteWriter.ipv4Length(address) == text.utf8.count)
        }
    }

    @Test func anAddressWrittenAgainIsCopiedFromWhereItWasWritten() {
        let addresses = [[10, 0, 0, 1], [192, 168, 100, 255], [10, 0, 0, 1], [192, 168, 100, 255], [1, 2, 3, 4], [10, 0, 0, 1], [1, 2, 3, 4]]
            .map { SocketAddress(ipv4: UInt8($0[0]), UInt8($0[1]), UInt8($0[2]), UInt8($0[3]), port: 0) }
        var recent = RecentIPv4()
        let text = written { writer in
            for address in addresses {
                writer.ipv4(address, recent: &recent)
                writer.byte(UInt8(ascii: ","))
            }
        }
        #expect(text == addresses.map { $0.host + "," }.joined())
    }

    /// Every byte that needs escaping, at every position around the eight-byte steps of the
    /// fast copy, comes out as the escaping path alone writes it.
    @Test(arguments: ["\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{7f}", "\u{2028}", "\u{2029}", "é", "😀", "\u{2027}"])
    func escapingIsTheSameWhereverTheByteFalls(special: String) {
        for before in 0..<18 {
            for after in [0, 1, 7, 8, 9] {
                let string = String(repeating: "a", count: before) + special + String(repeating: "b", count: after)
                let slow = written { writer in
                    var copy = string
                    copy.withUTF8 { writer.jsonEscapedContents($0) }
                }
                #expect(written { $0.jsonStringContents(string) } == slow)
            }
        }
        #expect(JSONString.quoted("ab\u{2028}c") == "\"ab\\u2028c\"")
    }

    @Test func plainBytesOfEveryLengthAreCopiedAsTheyAre() {
        for length in 0..<40 {
            // 0x23…0x5B: printable ASCII without the quote or the backslash.
            let string = String(decoding: (0..<length).map { UInt8(0x23 + $0 * 7 % 0x39) }, as: UTF8.self)
            #expect(written { $0.jsonStringContents(string) } == string)
        }
    }

    @Test func growsPastItsFirstCapacityKeepingWhatWasWritten() {
        let text = written { writer in
            for index in 0..<5000 { writer.decimal(UInt64(index % 10)) }
        }
        #expect(text.utf8.count == 5000)
        #expect(text.hasPrefix("0123456789"))
    }

    /// Decimals as `String(describing:)` writes them, for random values of every size (each
    /// bit length equally likely) and the values around every group of eight digits.
    @Test func decimalsAreWhatStringMakesOfRandomValues() {
        var generator = SystemRandomNumberGenerator()
        var values: [UInt64] = []
        for _ in 0..<20_000 {
            let bits = UInt64.random(in: 0...64, using: &generator)
            let value = UInt64.random(in: 0...UInt64.max, using: &generator)
            values.append(bits == 64 ? value : value & (1 << bits - 1))
        }
        for boundary: UInt64 in [100_000_000, 10_000_000_000_000_000] {
            values += [boundary - 1, boundary, boundary + 1, boundary * 9 + 99_999_999, boundary * 10 - 1]
        }
        // Timestamps as spans carry them, and the same written one after another.
        values += [1_700_000_000_123_000_000, 1_700_000_000_135_345_678, 9_999_999_999_999_999_999, 1_000_000_000_000_000_000]
        let text = written { writer in
            for value in values {
                writer.decimal(value)
                writer.byte(UInt8(ascii: ","))
            }
        }
        #expect(text == values.map { String(describing: $0) + "," }.joined())
        let signed = values.prefix(1000).map { Int(bitPattern: UInt($0)) } + [Int.min, Int.max, -1, 0]
        #expect(written { writer in
            for value in signed {
                writer.decimal(value)
                writer.byte(UInt8(ascii: ","))
            }
        } == signed.map { String(describing: $0) + "," }.joined())
    }

    /// The inside of a JSON string literal as a byte-by-byte escape writes it, for random
    /// bytes of every length up to 40, mostly plain with a few that need escaping or are not
    /// ASCII (U+2028 and U+2029 among them).
    @Test func escapingIsWhatAByteByByteEscapeMakesOfRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        let special: [[UInt8]] = [[0x22], [0x5C], [0x0A], [0x0D], [0x09], [0x08], [0x0C], [0x00], [0x1F], [0x7F], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9], [0xC3, 0xA9], [0xE2, 0x80]]
        for round in 0..<20_000 {
            let length = round % 41
            var bytes: [UInt8] = []
            while bytes.count < length {
                if UInt8.random(in: 0..<16, using: &generator) == 0 {
                    bytes += special.randomElement(using: &generator)!
                } else {
                    bytes.append(UInt8.random(in: 0x20...0x7E, using: &generator))
                }
            }
            var buffer = OutputBuffer(capacity: 1)
            bytes.withUnsafeBufferPointer { buffer.writer.jsonStringContents($0) }
            #expect(buffer.bytes == Self.escapedByteByByte(bytes), "\(bytes)")
        }
    }

    /// JSON's escapes (RFC 8259 §7) and JavaScript's line and paragraph separators, one
    /// byte at a time; every other byte as it is.
    static func escapedByteByByte(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        func unicode(_ value: Int) {
            let hex = Array("0123456789abcdef".utf8)
            out += Array("\\u".utf8) + [hex[value >> 12 & 15], hex[value >> 8 & 15], hex[value >> 4 & 15], hex[value & 15]]
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x22: out += Array("\\\"".utf8)
            case 0x5C: out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0x08: out += Array("\\b".utf8)
            case 0x0C: out += Array("\\f".utf8)
            case 0x00..<0x20, 0x7F: unicode(Int(byte))
            case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                unicode(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                index += 2
            default: out.append(byte)
            }
            index += 1
        }
        return out
    }
}
