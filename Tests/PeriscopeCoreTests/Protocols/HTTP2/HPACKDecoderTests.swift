import Testing
@testable import PeriscopeCore

/// Bytes from hex digits, spaces ignored.
func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

extension HPACKDecoder {
    /// Decodes a block to name/value strings ("?" where unknown).
    mutating func fields(_ block: [UInt8]) -> (fields: [String], result: BlockResult) {
        var fields: [String] = []
        let result = decode(block[...]) { field in
            let name = field.name.map { String(decoding: $0, as: UTF8.self) } ?? "?"
            let value = field.value.map { String(decoding: $0, as: UTF8.self) } ?? "?"
            fields.append("\(name): \(value)")
        }
        return (fields, result)
    }
}

@Suite struct HPACKDecoderTests {
    struct Example: Sendable, CustomTestStringConvertible {
        var name: String
        var tableSize: Int
        /// Each block, the fields it decodes to and the table's size after it.
        var blocks: [(hex: String, fields: [String], tableSize: Int, entries: Int)]
        var testDescription: String { name }
    }

    static let requestFields = [
        [":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"],
        [":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache"],
        [":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value"],
    ]
    static let responseFields = [
        [":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com"],
        [":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com"],
        [
            ":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT", "location: https://www.example.com",
            "content-encoding: gzip", "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ],
    ]

    /// RFC 7541 Appendix C.2 to C.6: each field representation, then requests and
    /// responses, plain and Huffman coded, the responses with a 256-byte table that evicts.
    static let examples: [Example] = [
        Example(name: "C.2.1 literal with indexing", tableSize: 4096, blocks: [
            ("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", ["custom-key: custom-header"], 55, 1),
        ]),
        Example(name: "C.2.2 literal without indexing", tableSize: 4096, blocks: [
            ("040c 2f73 616d 706c 652f 7061 7468", [":path: /sample/path"], 0, 0),
        ]),
        Example(name: "C.2.3 literal never indexed", tableSize: 4096, blocks: [
            ("1008 7061 7373 776f 7264 0673 6563 7265 74", ["password: secret"], 0, 0),
        ]),
        Example(name: "C.2.4 indexed", tableSize: 4096, blocks: [("82", [":method: GET"], 0, 0)]),
        Example(name: "C.3 requests without Huffman", tableSize: 4096, blocks: [
            ("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", requestFields[0], 57, 1),
            ("8286 84be 5808 6e6f 2d63 6163 6865", requestFields[1], 110, 2),
            ("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", requestFields[2], 164, 3),
        ]),
        Example(name: "C.4 requests with Huffman", tableSize: 4096, blocks: [
            ("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", requestFields[0], 57, 1),
            ("8286 84be 5886 a8eb 1064 9cbf", requestFields[1], 110, 2),
            ("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", requestFields[2], 164, 3),
        ]),
        Example(name: "C.5 responses without Huffman", tableSize: 256, blocks: [
            (
                "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d"
                    + "546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                responseFields[0], 222, 4
            ),
            ("4803 3330 37c1 c0bf", responseFields[1], 222, 4),
            (
                "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f"
                    + "6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630"
                    + "303b 2076 6572 7369 6f6e 3d31",
                responseFields[2], 215, 3
            ),
        ]),
        Example(name: "C.6 responses with Huffman", tableSize: 256, blocks: [
            (
                "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7"
                    + "8f0b 97c8 e9ae 82ae 43d3",
                responseFields[0], 222, 4
            ),
            ("4883 640e ffc1 c0bf", responseFields[1], 222, 4),
            (
                "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335"
                    + "dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
                responseFields[2], 215, 3
            ),
        ]),
    ]

    @Test(arguments: examples)
    func decodesTheRFCExamples(_ example: Example) {
        var decoder = HPACKDecoder()
        decoder.setAllowedTableSize(example.tableSize)
        for block in example.blocks {
            let (fields, result) = decoder.fields(hexBytes(block.hex))
            #expect(result == HPACKDecoder.BlockResult())
            #expect(fields == block.fields)
            #expect(decoder.dynamicTableSize == block.tableSize)
            #expect(decoder.dynamicTableCount == block.entries)
        }
    }

    @Test func integersFollowTheRFCExamples() throws {
        // RFC 7541 C.1: 10 in a 5-bit prefix, 1337 in a 5-bit prefix, 42 at an octet boundary.
        for (bytes, prefix, value) in [([UInt8(0x0a)], 5, 10), ([0x1f, 0x9a, 0x0a], 5, 1337), ([0x2a], 8, 42)] {
            var position = 0
            #expect(try HPACKDecoder.integer(bytes[...], &position, prefixBits: prefix) == value)
            #expect(position == bytes.count)
        }
    }

    @Test(arguments: [
        ("ff ff ff ff ff ff 0f", HPACKError.Code.integerOverflow),
        ("ff 80 80 80 80 80 80 01", .integerOverflow),
        ("ff 80", .truncated),
        ("80", .invalidIndex),
        ("be", .invalidIndex),
        ("0f 2f", .invalidIndex),
        ("40 05 61 62", .truncated),
        ("40 81 ff 01 61", .invalidHuffman),
        ("82 20", .misplacedTableSizeUpdate),
        ("3f e2 1f", .tableSizeExceeded),
    ])
    func rejectsInvalidBlocksWithStableCodes(hex: String, code: HPACKError.Code) {
        var decoder = HPACKDecoder()
        let (_, result) = decoder.fields(hexBytes(hex))
        #expect(result.error?.code == code)
    }

    @Test func huffmanDecodesEveryByteAndRejectsBadPadding() {
        // Every byte value, coded with the canonical codes, decodes back.
        var bits: [Bool] = []
        for symbol in 0..<256 {
            let length = Int(HPACKHuffman.codeLengths[symbol])
            for position in stride(from: length - 1, through: 0, by: -1) {
                bits.append(HPACKHuffman.codes[symbol] >> UInt32(position) & 1 == 1)
            }
        }
        while bits.count % 8 != 0 { bits.append(true) }
        let encoded = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var output: [UInt8] = []
        #expect(HPACKHuffman.decode(encoded[...], into: &output))
        #expect(output == Array(0...255))
        // "a" is 00011 (5 bits): padded with 111 it is valid, with 000 or a whole 0xff byte more not.
        output = []
        #expect(HPACKHuffman.decode([0x1f][...], into: &output) && output == [UInt8(ascii: "a")])
        #expect(!HPACKHuffman.decode([0x18][...], into: &output))
        #expect(!HPACKHuffman.decode([0x1f, 0xff][...], into: &output))
        // EOS (30 ones) inside a string.
        #expect(!HPACKHuffman.decode([0xff, 0xff, 0xff, 0xff][...], into: &output))
        #expect(HPACKHuffman.codes[HPACKHuffman.endOfString] == 0x3fff_ffff)
        #expect(HPACKHuffman.codes[Int(UInt8(ascii: "0"))] == 0x0 && HPACKHuffman.codes[Int(UInt8(ascii: "a"))] == 0x3)
    }

    @Test func evictsOldestEntriesAndEmptiesForOversizedOnes() {
        var decoder = HPACKDecoder()
        decoder.setAllowedTableSize(100)
        // Two literals with incremental indexing, new names: "aa: 11" (36) and "bb: 22" (36).
        _ = decoder.fields(hexBytes("40 02 6161 02 3131 40 02 6262 02 3232"))
        #expect(decoder.dynamicTableCount == 2 && decoder.dynamicTableSize == 72)
        // A third evicts the oldest: index 62 is the newest ("cc"), 63 "bb", 64 is gone.
        _ = decoder.fields(hexBytes("40 02 6363 02 3333"))
        #expect(decoder.dynamicTableCount == 2)
        #expect(decoder.fields(hexBytes("be bf")).fields == ["cc: 33", "bb: 22"])
        #expect(decoder.fields(hexBytes("c0")).result.error?.code == .invalidIndex)
        // An entry larger than the table empties it and is not added.
        var decoder2 = HPACKDecoder()
        decoder2.setAllowedTableSize(40)
        _ = decoder2.fields(hexBytes("40 01 61 01 31"))
        #expect(decoder2.dynamicTableCount == 1)
        _ = decoder2.fields(hexBytes("40 02 6161 08 3132333435363738"))
        #expect(decoder2.dynamicTableCount == 0 && decoder2.dynamicTableSize == 0)
    }

    @Test func tableSizeUpdatesEvictAndStayWithinSettings() {
        var decoder = HPACKDecoder()
        _ = decoder.fields(hexBytes("40 02 6161 02 3131 40 02 6262 02 3232"))
        // Size update to 40 at the block's start keeps only the newest entry.
        #expect(decoder.fields(hexBytes("3f 09 be")).fields == ["bb: 22"])
        #expect(decoder.dynamicTableCount == 1)
        // Two updates in a row (down to 0 then back up) are allowed at the start.
        #expect(decoder.fields(hexBytes("20 3f e1 1f 82")).result == HPACKDecoder.BlockResult())
        #expect(decoder.dynamicTableCount == 0)
        // Settings lowered to 0: any update above is refused.
        decoder.setAllowedTableSize(0)
        #expect(decoder.fields(hexBytes("21")).result.error?.code == .tableSizeExceeded)
    }

    @Test func aLargeAgreedTableIsHeldOnlyUpToTheMemoryLimit() {
        var decoder = HPACKDecoder()
        decoder.setAllowedTableSize(1 << 20)
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: 1000)
        for half in 0..<2 {
            // The first block starts with a size update to 1 MiB.
            var block = half == 0 ? [0x3f] + Self.integerContinuation(1 << 20 - 31) : []
            for index in 0..<50 {
                block += [0x40, 0x04] + Array("k\(100 + half * 50 + index)".utf8) + [0x7f]
                    + Self.integerContinuation(value.count - 127) + value
            }
            let (fields, result) = decoder.fields(block)
            #expect(result == HPACKDecoder.BlockResult() && fields.count == 50)
        }
        #expect(decoder.dynamicTableSize <= HPACKDecoder.tableMemoryLimit)
        // The newest entries are still there; the oldest the encoder keeps are unknown, not invalid.
        #expect(decoder.fields(hexBytes("be")).fields == ["k199: " + String(repeating: "v", count: 1000)])
        let old = decoder.fields([0xff] + Self.integerContinuation(62 + 90 - 127))
        #expect(old.result.error == nil && old.result.unknownFields == 1 && old.fields == ["?: ?"])
    }

    @Test func aTableJoinedMidwayDecodesWhatItCanAndMarksTheRest() {
        var decoder = HPACKDecoder(tableKnown: false)
        // :method GET, :path from the dynamic table (unknown), user-agent literal with an unknown
        // dynamic name, then a new entry that later blocks can use.
        let (fields, result) = decoder.fields(hexBytes("82 c4 0f 37 03 616263 40 02 6161 02 3131"))
        #expect(fields == [":method: GET", "?: ?", "?: abc", "aa: 11"])
        #expect(result.error == nil && result.unknownFields == 2)
        #expect(decoder.fields(hexBytes("be")).fields == ["aa: 11"])
        #expect(decoder.fields(hexBytes("bf")).result.unknownFields == 1)
        // An entry whose name was an unknown entry keeps its value, its name stays unknown.
        _ = decoder.fields(hexBytes("7f 20 02 7878"))
        #expect(decoder.fields(hexBytes("be")).fields == ["?: xx"])
    }

    @Test func anInvalidBlockForgetsTheTable() {
        var decoder = HPACKDecoder()
        _ = decoder.fields(hexBytes("40 02 6161 02 3131"))
        #expect(decoder.fields(hexBytes("40 02 6262 02 3232 80")).result.error?.code == .invalidIndex)
        #expect(decoder.dynamicTableCount == 0)
        let after = decoder.fields(hexBytes("82 be"))
        #expect(after.fields == [":method: GET", "?: ?"] && after.result.error == nil)
    }

    @Test func headerListsBeyondTheLimitStopBeingVisitedButKeepTheTableInStep() {
        var decoder = HPACKDecoder()
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 40_000)
        let literal: [UInt8] = [0x40, 0x01, UInt8(ascii: "a"), 0x7f] + Self.integerContinuation(value.count - 127) + value
        let (fields, result) = decoder.fields(literal + literal + hexBytes("40 01 62 01 32"))
        #expect(fields.count == 1 && result.headerListTooLarge && result.error == nil)
        #expect(decoder.fields(hexBytes("be")).fields == ["b: 2"])
    }

    /// The continuation bytes of an HPACK integer whose prefix is full, for `rest` = value - prefix max.
    static func integerContinuation(_ rest: Int) -> [UInt8] {
        var rest = rest
        var bytes: [UInt8] = []
        while rest >= 128 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        return bytes + [UInt8(rest)]
    }
}
