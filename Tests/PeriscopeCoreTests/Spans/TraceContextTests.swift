import Testing
@testable import PeriscopeCore

@Suite struct TraceContextTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parent = "00f067aa0ba902b7"

    @Test func parsesAVersionZeroHeader() throws {
        let context = try #require(TraceContext(traceparent: "00-\(Self.trace)-\(Self.parent)-01"))
        #expect(context.traceID == TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736))
        #expect(context.parentID == SpanID(value: 0x00f0_67aa_0ba9_02b7))
        #expect(context.flags == 0x01 && context.sampled)
        #expect(context.traceparent == "00-\(Self.trace)-\(Self.parent)-01")
    }

    @Test(arguments: [
        ("  00-\(trace)-\(parent)-00\t", true),
        ("00-\(trace)-\(parent)-0F", true),
        ("cc-\(trace)-\(parent)-01-what-the-future-adds", true),
        ("CC-\(trace)-\(parent)-01", true),
        ("00-\(trace)-\(parent)-01-", false),
        ("ff-\(trace)-\(parent)-01", false),
        ("00-\(trace.uppercased())-\(parent)-01", false),
        ("00-\(trace)-\(parent.uppercased())-01", false),
        ("00-00000000000000000000000000000000-\(parent)-01", false),
        ("00-\(trace)-0000000000000000-01", false),
        ("00-\(trace.dropLast())-\(parent)-01", false),
        ("00-\(trace)-\(parent)-1", false),
        ("0-\(trace)-\(parent)-01", false),
        ("00-\(trace)-\(parent)", false),
        ("00-\(trace.dropLast())g-\(parent)-01", false),
        ("00_\(trace)_\(parent)_01", false),
        ("", false),
        ("-", false),
    ])
    func acceptsOnlyWellFormedHeaders(header: String, valid: Bool) {
        #expect((TraceContext(traceparent: header) != nil) == valid)
        #expect((TraceContext(traceparent: header[...]) != nil) == valid, "a substring parses the same")
    }

    /// The usual value read a byte at a time: what the one-pass reading must answer.
    static func version00ByteByByte(_ bytes: [UInt8]) -> TraceContext? {
        guard bytes.count == 55, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "0"), bytes[2] == UInt8(ascii: "-"),
              bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-")
        else { return nil }
        func hex(_ start: Int, _ count: Int) -> UInt64? {
            var value: UInt64 = 0
            for byte in bytes[start..<(start + count)] {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
                default: return nil
                }
            }
            return value
        }
        guard let high = hex(3, 16), let low = hex(19, 16), let parent = hex(36, 16), let flags = hex(53, 2), high != 0 || low != 0, parent != 0
        else { return nil }
        return TraceContext(traceID: TraceID(high: high, low: low), parentID: SpanID(value: parent), flags: UInt8(flags))
    }

    /// Every byte of the usual value replaced by every byte there is (uppercase and invalid
    /// digits included): read eight digits at a time, the same answer as a byte at a time.
    @Test func versionZeroReadByWordsAsByBytes() {
        let values = [
            "00-\(Self.trace)-\(Self.parent)-01", "00-0123456789abcdef0123456789abcdef-fedcba9876543210-ff",
            "00-00000000000000000000000000000001-0000000000000001-00", "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-a9",
        ]
        for value in values {
            let original = Array(value.utf8)
            #expect(Self.version00ByteByByte(original) != nil)
            for position in original.indices {
                for byte in UInt8.min...UInt8.max {
                    var bytes = original
                    bytes[position] = byte
                    let expected = Self.version00ByteByByte(bytes)
                    let read = bytes.withUnsafeBufferPointer { TraceContext.parseVersion00($0) }
                    #expect(read == expected, "\(value) with \(byte) at \(position)")
                }
            }
        }
    }
}
