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
}
