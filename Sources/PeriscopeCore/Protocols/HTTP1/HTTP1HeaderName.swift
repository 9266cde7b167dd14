/// The headers Periscope reads, recognised case-insensitively.
enum HTTP1HeaderName: CaseIterable {
    case host
    case userAgent
    case traceparent
    case contentLength
    case transferEncoding
    case connection

    private static let names: [(HTTP1HeaderName, [UInt8])] = allCases.map { ($0, Array($0.lowercaseName.utf8)) }

    var lowercaseName: String {
        switch self {
        case .host: "host"
        case .userAgent: "user-agent"
        case .traceparent: "traceparent"
        case .contentLength: "content-length"
        case .transferEncoding: "transfer-encoding"
        case .connection: "connection"
        }
    }

    /// Nil for every other header.
    init?<Bytes: Collection<UInt8>>(_ name: Bytes) {
        for (header, bytes) in Self.names where bytes.count == name.count {
            if HTTP1Syntax.equalsIgnoringCase(name, bytes) {
                self = header
                return
            }
        }
        return nil
    }
}
