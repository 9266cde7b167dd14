/// The headers Periscope reads, recognised case-insensitively.
enum HTTP1HeaderName: CaseIterable {
    case host
    case userAgent
    case traceparent
    case contentLength
    case transferEncoding
    case connection
    case upgrade

    /// The lowercase name's bytes.
    private var lowercaseBytes: StaticString {
        switch self {
        case .host: "host"
        case .userAgent: "user-agent"
        case .traceparent: "traceparent"
        case .contentLength: "content-length"
        case .transferEncoding: "transfer-encoding"
        case .connection: "connection"
        case .upgrade: "upgrade"
        }
    }

    /// Nil for every other header. The length picks the one candidate compared.
    init?<Bytes: Collection<UInt8>>(_ name: Bytes) {
        guard let found = name.withContiguousStorageIfAvailable({ Self($0.baseAddress, count: $0.count) })
            ?? Array(name).withUnsafeBufferPointer({ Self($0.baseAddress, count: $0.count) })
        else { return nil }
        self = found
    }

    /// The name of `count` bytes at `name`, which are tokens (RFC 9110 §5.6.2): OR-ing a
    /// token with 0x20 lowercases a letter and changes nothing else that can match.
    init?(_ name: UnsafePointer<UInt8>?, count: Int) {
        let candidate: HTTP1HeaderName
        switch count {
        case 4: candidate = .host
        case 7: candidate = .upgrade
        case 10: candidate = (name?[0] ?? 0) | 0x20 == UInt8(ascii: "u") ? .userAgent : .connection
        case 11: candidate = .traceparent
        case 14: candidate = .contentLength
        case 17: candidate = .transferEncoding
        default: return nil
        }
        guard let name else { return nil }
        let expected = candidate.lowercaseBytes.utf8Start
        for offset in 0..<count where name[offset] | 0x20 != expected[offset] {
            return nil
        }
        self = candidate
    }
}
