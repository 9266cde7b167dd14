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
    /// anything malformed, an all-zero id, or version ff.
    public init?(traceparent: some StringProtocol) {
        let value = traceparent.trimmingASCIIWhitespace()
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4,
              let version = [UInt8](hexString: parts[0]), version.count == 1, version[0] != 0xff,
              let traceID = TraceID(hex: parts[1]), parts[1].allSatisfy({ !$0.isUppercase }),
              let parentID = SpanID(hex: parts[2]), parts[2].allSatisfy({ !$0.isUppercase }),
              let flags = [UInt8](hexString: parts[3]), flags.count == 1
        else { return nil }
        if version[0] == 0, parts.count != 4 { return nil }
        self.init(traceID: traceID, parentID: parentID, flags: flags[0])
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
