extension PostgreSQLDecoder {
    /// PostgreSQL clients speak first. On the requests stream: a startup-phase message
    /// (`StartupMessage` of protocol 3, `SSLRequest`, `GSSENCRequest`, `CancelRequest`) at
    /// a connection's start, or, met mid-stream, a `Query` or `Parse` message whose length
    /// is plausible and whose text starts with an SQL statement keyword. Server bytes alone
    /// never match.
    public static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection {
        guard stream == .requests else { return .doesNotMatch }
        guard let first = bytes.first else { return .needMoreBytes }
        if first == 0 { return detectStartup(bytes) }
        guard first == PostgreSQLMessageType.query || first == PostgreSQLMessageType.parse else { return .doesNotMatch }
        guard bytes.count >= 5 else { return .needMoreBytes }
        let length = readUInt32(bytes, at: bytes.startIndex + 1)
        guard length >= 6, length <= UInt32(PostgreSQLMessageReader.maxMessageLength) else { return .doesNotMatch }
        var text = bytes.dropFirst(5).prefix(Int(length) - 4)
        if first == PostgreSQLMessageType.parse {
            // A statement name of printable bytes, then its text.
            guard let nul = text.prefix(64).firstIndex(of: 0) else { return text.count < 64 ? .needMoreBytes : .doesNotMatch }
            guard text[..<nul].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .doesNotMatch }
            text = text[(nul + 1)...]
        }
        let verdict = SQLKeywords.startsWithStatement(text)
        if verdict == .needMoreBytes, text.count >= Int(length) - 4 { return .doesNotMatch }
        return verdict
    }

    private static func detectStartup(_ bytes: ArraySlice<UInt8>) -> ProtocolDetection {
        guard bytes.count >= 8 else { return .needMoreBytes }
        let length = readUInt32(bytes, at: bytes.startIndex)
        let code = readUInt32(bytes, at: bytes.startIndex + 4)
        switch code {
        case PostgreSQLMessageType.sslRequest, PostgreSQLMessageType.gssEncryptionRequest:
            return length == 8 ? .matches : .doesNotMatch
        case PostgreSQLMessageType.cancelRequest:
            return length == 16 ? .matches : .doesNotMatch
        case _ where code >> 16 == 3 && code & 0xFFFF < 16:
            guard length > 8, length <= UInt32(PostgreSQLMessageReader.maxStartupLength) else { return .doesNotMatch }
            guard bytes.count > 8 else { return .needMoreBytes }
            // Parameter names are lowercase words (`user`, `database`, `_pq_.…`).
            let key = bytes[bytes.startIndex + 8]
            return (key >= UInt8(ascii: "a") && key <= UInt8(ascii: "z")) || key == UInt8(ascii: "_") ? .matches : .doesNotMatch
        default:
            return .doesNotMatch
        }
    }

    static func readUInt32(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
        UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }
}

extension ProtocolRegistration {
    /// PostgreSQL, on with `postgresql`. Detected on the requests stream only: its binary
    /// startup messages and typed messages match no text protocol.
    public static let postgresql = ProtocolRegistration(
        name: .postgresql,
        detect: { PostgreSQLDecoder.detect($0, stream: $1) },
        make: { PostgreSQLDecoder(configuration: $0) }
    )
}
