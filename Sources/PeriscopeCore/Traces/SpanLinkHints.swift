/// Digests of requests: equal digests on an inbound and an outbound request of one process
/// mean the same request passed through (a proxy reads a request on one connection and
/// writes it on another). `TraceLinker` parents calls by them.
public enum SpanLinkHints {
    /// The digest of an HTTP request with `method` and `target`.
    public static func digest(method: String, target: String) -> UInt64 {
        var hash = FNV1a()
        hash.add(method)
        hash.add(CollectionOfOne(UInt8(ascii: " ")))
        hash.add(target)
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

    /// The string's UTF-8 bytes, read where they are stored.
    mutating func add(_ string: String) {
        var string = string
        string.withUTF8 { add($0) }
    }

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }
}
