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
    var lowercaseBytes: StaticString {
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

    /// The name of `count` bytes at `name`, compared a word at a time: each word of the name
    /// (overlapping words for lengths that are not a multiple of its size, so nothing is read
    /// beyond the name) OR-ed with 0x20 in the letters' places only, which lowercases a letter
    /// and maps no other byte onto one, then compared with the lowercase name's bytes.
    @inline(__always)
    init?(_ name: UnsafePointer<UInt8>?, count: Int) {
        guard let name else { return nil }
        let raw = UnsafeRawPointer(name)
        @inline(__always) func word(_ offset: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        @inline(__always) func half(_ offset: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        switch count {
        case 4:
            guard half(0) | 0x2020_2020 == 0x7473_6f68 else { return nil }  // "host"
            self = .host
        case 7:
            guard half(0) | 0x2020_2020 == 0x7267_7075, half(3) | 0x2020_2020 == 0x6564_6172 else { return nil }  // "upgr", "rade"
            self = .upgrade
        case 10:
            let (first, last) = (word(0), word(2))
            if first | 0x2020_2000_2020_2020 == 0x6567_612d_7265_7375, last | 0x2020_2020_2000_2020 == 0x746e_6567_612d_7265 {
                self = .userAgent  // "user-age", "er-agent"
            } else if first | 0x2020_2020_2020_2020 == 0x6974_6365_6e6e_6f63, last | 0x2020_2020_2020_2020 == 0x6e6f_6974_6365_6e6e {
                self = .connection  // "connecti", "nnection"
            } else {
                return nil
            }
        case 11:
            guard word(0) | 0x2020_2020_2020_2020 == 0x7261_7065_6361_7274, word(3) | 0x2020_2020_2020_2020 == 0x746e_6572_6170_6563
            else { return nil }  // "tracepar", "ceparent"
            self = .traceparent
        case 14:
            guard word(0) | 0x0020_2020_2020_2020 == 0x2d74_6e65_746e_6f63, word(6) | 0x2020_2020_2020_0020 == 0x6874_676e_656c_2d74
            else { return nil }  // "content-", "t-length"
            self = .contentLength
        case 17:
            guard word(0) | 0x2020_2020_2020_2020 == 0x7265_6673_6e61_7274, word(8) | 0x2020_2020_2020_2000 == 0x6e69_646f_636e_652d,
                  word(9) | 0x2020_2020_2020_2020 == 0x676e_6964_6f63_6e65
            else { return nil }  // "transfer", "-encodin", "encoding"
            self = .transferEncoding
        default:
            return nil
        }
    }
}
