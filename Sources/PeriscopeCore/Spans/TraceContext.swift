/// A W3C Trace Context `traceparent`: `00-<trace-id>-<parent-id>-<flags>`.
public struct TraceContext: Sendable, Equatable {
    public var traceID: TraceID
    /// The span that made the call (the parent of the span receiving it).
    public var parentID: SpanID
    public var flags: UInt8

    public init(traceID: TraceID, parentID: SpanID, flags: UInt8) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    public var sampled: Bool { flags & 0x01 != 0 }

    /// Parses a header value. Accepts version 00 exactly as specified and, as the
    /// specification asks, future versions by their first four fields. Returns nil for
    /// anything malformed, an all-zero id, or version ff. Read as bytes where they are
    /// stored: every request a traced client sends carries one.
    public init?(traceparent: some StringProtocol) {
        let parsed = traceparent.utf8.withContiguousStorageIfAvailable(Self.parse)
            ?? Array(traceparent.utf8).withUnsafeBufferPointer(Self.parse)
        guard let parsed else { return nil }
        self = parsed
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> TraceContext? {
        if let usual = parseVersion00(bytes) { return usual }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        // The field boundaries: the first four dashes.
        var dashes = (0, 0, 0, 0)
        var count = 0
        var index = start
        while index < end, count < 4 {
            if bytes[index] == UInt8(ascii: "-") {
                switch count {
                case 0: dashes.0 = index
                case 1: dashes.1 = index
                case 2: dashes.2 = index
                default: dashes.3 = index
                }
                count += 1
            }
            index += 1
        }
        guard count >= 3 else { return nil }
        /// The value of the hex digits in `range`; `lowercaseOnly` refuses A–F.
        func hex(_ range: Range<Int>, lowercaseOnly: Bool) -> UInt64? {
            var value: UInt64 = 0
            for position in range {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F") where !lowercaseOnly: digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt64(digit)
            }
            return value
        }
        let flagsEnd = count == 4 ? dashes.3 : end
        guard dashes.0 - start == 2, let version = hex(start..<dashes.0, lowercaseOnly: false), version != 0xff,
              dashes.1 - dashes.0 == 33, dashes.2 - dashes.1 == 17, flagsEnd - dashes.2 == 3,
              let traceHigh = hex((dashes.0 + 1)..<(dashes.0 + 17), lowercaseOnly: true),
              let traceLow = hex((dashes.0 + 17)..<dashes.1, lowercaseOnly: true),
              let parent = hex((dashes.1 + 1)..<dashes.2, lowercaseOnly: true),
              let flags = hex((dashes.2 + 1)..<flagsEnd, lowercaseOnly: false),
              traceHigh != 0 || traceLow != 0, parent != 0
        else { return nil }
        if version == 0, count == 4 { return nil }
        return TraceContext(
            traceID: TraceID(high: traceHigh, low: traceLow), parentID: SpanID(value: parent), flags: UInt8(flags)
        )
    }

    /// The usual value, read in one pass: version `00`, 55 bytes, lowercase hex, ids not
    /// zero. Nil for anything else, which `parse` then reads field by field (what this
    /// accepts, that reads the same). The hex digits are checked and converted eight at a time.
    static func parseVersion00(_ bytes: UnsafeBufferPointer<UInt8>) -> TraceContext? {
        guard bytes.count == 55, let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        @inline(__always) func word(_ offset: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        // "00-" and the dashes at 35 and 52; the flags' two digits read with the dash before them.
        let flagsWord = UInt64(raw.loadUnaligned(fromByteOffset: 51, as: UInt32.self))
        guard raw.loadUnaligned(as: UInt32.self) & 0x00ff_ffff == 0x2d_3030, base[35] == UInt8(ascii: "-"),
              flagsWord & 0xff00 == 0x2d00,
              let trace0 = hex8(word(3)), let trace1 = hex8(word(11)), let trace2 = hex8(word(19)), let trace3 = hex8(word(27)),
              let parent0 = hex8(word(36)), let parent1 = hex8(word(44)),
              // The flags' two digits in the last lanes of a word of "0000" and them.
              let flags = hex8((flagsWord >> 16) << 48 | 0x3030_3030_3030)
        else { return nil }
        let traceHigh = trace0 << 32 | trace1
        let traceLow = trace2 << 32 | trace3
        let parent = parent0 << 32 | parent1
        guard traceHigh != 0 || traceLow != 0, parent != 0 else { return nil }
        return TraceContext(traceID: TraceID(high: traceHigh, low: traceLow), parentID: SpanID(value: parent), flags: UInt8(flags))
    }

    /// The value of eight lowercase hex digits loaded little-endian (the first digit the
    /// most significant); nil when any byte is not one.
    @inline(__always)
    static func hex8(_ word: UInt64) -> UInt64? {
        let lanes: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        // Lane by lane, with no carry between lanes while their high bits are clear.
        func inRange(_ low: UInt8, _ top: UInt8) -> UInt64 {
            (word &+ lanes &* UInt64(0x80 - low)) & ~(word &+ lanes &* UInt64(0x7f - top)) & high
        }
        let letters = inRange(UInt8(ascii: "a"), UInt8(ascii: "f"))
        guard word & high == 0, (inRange(UInt8(ascii: "0"), UInt8(ascii: "9")) | letters) == high else { return nil }
        // Each lane's value: its low four bits, plus 9 for a letter ('a' is 0x61).
        let nibbles = (word & 0x0f0f_0f0f_0f0f_0f0f) &+ (letters >> 7) &* 9
        // The lanes reversed (the last digit lowest), then pairs of lanes packed into bytes,
        // pairs of bytes into 16 bits, pairs of those into 32.
        let reversed = nibbles.byteSwapped
        let bytes = (reversed | reversed &>> 4) & 0x00ff_00ff_00ff_00ff
        let halves = (bytes | bytes &>> 8) & 0x0000_ffff_0000_ffff
        return (halves | halves &>> 16) & 0xffff_ffff
    }

    /// `00-<trace-id>-<parent-id>-<flags>`.
    public var traceparent: String {
        "00-\(traceID.hex)-\(parentID.hex)-\([flags].hexString)"
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> Substring {
        let s = self[...]
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = s.firstIndex(where: { !isSpace($0) }),
              let last = s.lastIndex(where: { !isSpace($0) })
        else { return Substring("") }
        return Substring(s[first...last])
    }
}
