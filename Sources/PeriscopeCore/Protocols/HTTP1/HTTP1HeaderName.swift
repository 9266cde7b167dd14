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
        let candidate: HTTP1HeaderName
        switch name.count {
        case 4: candidate = .host
        case 7: candidate = .upgrade
        case 10: candidate = name.first.map { $0 | 0x20 } == UInt8(ascii: "u") ? .userAgent : .connection
        case 11: candidate = .traceparent
        case 14: candidate = .contentLength
        case 17: candidate = .transferEncoding
        default: return nil
        }
        let expected = candidate.lowercaseBytes.utf8Start
        var offset = 0
        for byte in name {
            let lowercase = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            guard lowercase == expected[offset] else { return nil }
            offset += 1
        }
        self = candidate
    }
}
