extension MySQLDecoder {
    /// MySQL and MariaDB servers speak first: on the responses stream, a greeting packet
    /// (sequence 0, protocol version 10) whose server version is printable and starts with a
    /// digit. Client bytes alone never match.
    public static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection {
        guard stream == .responses else { return .doesNotMatch }
        let start = bytes.startIndex
        guard bytes.count >= 6 else {
            // What there is must already fit a greeting's header.
            if bytes.count >= 4, bytes[start + 3] != 0 { return .doesNotMatch }
            if bytes.count >= 5, bytes[start + 4] != 10 { return .doesNotMatch }
            return .needMoreBytes
        }
        let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16
        guard length >= 30, length <= 1024, bytes[start + 3] == 0, bytes[start + 4] == 10,
              SQLLexer.isDigit(bytes[start + 5]) else { return .doesNotMatch }
        let version = bytes[(start + 5)...].prefix(64)
        guard let nul = version.firstIndex(of: 0) else {
            return version.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && version.count < 64 ? .needMoreBytes : .doesNotMatch
        }
        return version[..<nul].allSatisfy { $0 >= 0x20 && $0 < 0x7F } ? .matches : .doesNotMatch
    }
}

extension ProtocolRegistration {
    /// MySQL and MariaDB, on with `mysql`. The server speaks first: detected on the
    /// responses stream from the greeting, before the client has sent anything.
    public static let mysql = ProtocolRegistration(
        name: .mysql,
        serverSpeaksFirst: true,
        detect: { MySQLDecoder.detect($0, stream: $1) },
        make: { MySQLDecoder(configuration: $0) }
    )
}
