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
    /// accepts, that reads the same).
    private static func parseVersion00(_ bytes: UnsafeBufferPointer<UInt8>) -> TraceContext? {
        guard bytes.count == 55, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "0"), bytes[2] == UInt8(ascii: "-"),
              bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-")
        else { return nil }
        /// Lowercase hex digits at `start..<start + count`; nil for any other byte.
        func hex(_ start: Int, _ count: Int) -> UInt64? {
            var value: UInt64 = 0
            for position in start..<(start + count) {
                let byte = bytes[position]
                let digit = byte &- UInt8(ascii: "0")
                let letter = byte &- UInt8(ascii: "a")
                if digit < 10 {
                    value = value << 4 | UInt64(digit)
                } else if letter < 6 {
                    value = value << 4 | UInt64(letter + 10)
                } else {
                    return nil
                }
            }
            return value
        }
        guard let traceHigh = hex(3, 16), let traceLow = hex(19, 16), let parent = hex(36, 16), let flags = hex(53, 2),
              traceHigh != 0 || traceLow != 0, parent != 0
        else { return nil }
        return TraceContext(traceID: TraceID(high: traceHigh, low: traceLow), parentID: SpanID(value: parent), flags: UInt8(flags))
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
