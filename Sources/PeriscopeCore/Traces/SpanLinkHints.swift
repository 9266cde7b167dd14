/// What the tracker knew, when it built a span, that helps place the span in a trace.
///
/// Not exported: `TraceAssembler` reads it to link spans of one request across processes
/// and across the connections of one process.
public struct SpanLinkHints: Sendable, Equatable {
    /// A digest of the request the span carried: method and target for an HTTP exchange;
    /// for a connection, its HTTP request line when its first bytes are one, otherwise
    /// those first bytes. A proxy reads a request on one connection and writes it on
    /// another, so equal digests on the inbound and outbound spans of one process mean the
    /// same request passed through. Nil when no request bytes were seen.
    public var requestDigest: UInt64?
    /// Whether a span that may be this span's parent can still arrive: for a server span,
    /// the other end of its connection is a socket traced on this node; for a client span,
    /// its process was serving connections.
    public var parentMayFollow: Bool
    /// Whether a span that may be this span's child can still arrive: for a server span,
    /// its process has connections open that are not ones it accepted (an outgoing call
    /// may be under way); always for other spans.
    public var childMayFollow: Bool

    public init(requestDigest: UInt64? = nil, parentMayFollow: Bool = false, childMayFollow: Bool = true) {
        self.requestDigest = requestDigest
        self.parentMayFollow = parentMayFollow
        self.childMayFollow = childMayFollow
    }

    /// The digest of an HTTP request with `method` and `target`.
    public static func digest(method: String, target: String) -> UInt64 {
        var hash = FNV1a()
        hash.add(method.utf8)
        hash.add(CollectionOfOne(UInt8(ascii: " ")))
        hash.add(target.utf8)
        return hash.value
    }

    /// The digest of a connection's first bytes: its request line's method and target when
    /// they start with one (proxies rewrite the version and headers, not those), otherwise
    /// the first 16 bytes. Nil for fewer than 4 bytes.
    public static func digest(leadingBytes bytes: some Collection<UInt8>) -> UInt64? {
        guard bytes.count >= 4 else { return nil }
        if HTTP1MessageStart(classifying: bytes) == .request {
            let space = UInt8(ascii: " ")
            let method = bytes.prefix { $0 != space }
            let rest = bytes.dropFirst(method.count + 1)
            let target = rest.prefix { $0 != space && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
            return digest(method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self))
        }
        var hash = FNV1a()
        hash.add(bytes.prefix(16))
        return hash.value
    }
}

/// 64-bit FNV-1a.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }
}
