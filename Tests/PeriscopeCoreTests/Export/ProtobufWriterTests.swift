import Testing
@testable import PeriscopeCore

@Suite struct ProtobufWriterTests {
    @Test(arguments: [
        (UInt64(1), [UInt8(0x08), 0x01]),
        (300, [0x08, 0xac, 0x02]),
        (UInt64.max, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ] as [(UInt64, [UInt8])])
    func writesVarintsAsTheSpecificationShows(value: UInt64, expected: [UInt8]) {
        var writer = ProtobufWriter()
        writer.uint64(1, value)
        #expect(writer.bytes == expected)
    }

    @Test func defaultValuesAreNotWritten() {
        var writer = ProtobufWriter()
        writer.uint64(1, 0)
        writer.string(2, "")
        writer.fixed64(3, 0)
        writer.bool(4, false)
        #expect(writer.bytes.isEmpty)
    }

    @Test func negativeInt64TakesTenBytes() {
        var writer = ProtobufWriter()
        writer.int64(1, -1)
        #expect(writer.bytes.count == 11)
    }

    @Test func nestedMessagesGetTheirLengthInFrontWhateverTheirSize() throws {
        for size in [0, 1, 127, 128, 300, 20_000] {
            var writer = ProtobufWriter()
            writer.message(7) { inner in
                inner.string(1, String(repeating: "a", count: size))
            }
            writer.uint64(2, 5)
            let reader = try ProtobufReader(writer.bytes)
            let inner = try reader.message(7)
            #expect(inner.string(1) == (size == 0 ? nil : String(repeating: "a", count: size)))
            #expect(reader.varint(2) == 5)
        }
    }

    @Test func fixedAndDoubleFieldsAreLittleEndian() throws {
        var writer = ProtobufWriter()
        writer.fixed64(1, 0x0102_0304_0506_0708)
        writer.double(2, 1.5)
        writer.packedFixed64(3, [1, 2])
        #expect(Array(writer.bytes[0..<9]) == [0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        let reader = try ProtobufReader(writer.bytes)
        #expect(reader.fixed64(2) == 1.5.bitPattern)
        #expect(reader.bytes(3)?.count == 16)
    }
}
