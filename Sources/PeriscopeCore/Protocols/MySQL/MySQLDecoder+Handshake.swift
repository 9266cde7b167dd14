extension MySQLDecoder {
    /// The server's greeting (protocol 10): its version tells MariaDB from MySQL, its
    /// capabilities what the client may ask for.
    mutating func readGreeting(_ packet: MySQLPacketReader.Packet, _ output: inout [ProtocolOutput]) {
        var cursor = MySQLPayloadCursor(packet.payload)
        guard cursor.byte() == 10, let version = cursor.cString() else {
            output.append(.decodeError(reason: "invalid_greeting"))
            phase = .stopped
            return
        }
        if version.windowContains("MariaDB".utf8) { system = .mariadb }
        // Connection id, first 8 bytes of auth data and a filler.
        _ = cursor.skip(4 + 8 + 1)
        let low = cursor.uint16() ?? 0
        _ = cursor.skip(1 + 2)
        let high = cursor.uint16() ?? 0
        serverCapabilities = UInt32(low) | UInt32(high) << 16
        // Auth data length and 6 reserved bytes, then MariaDB's extended capabilities.
        _ = cursor.skip(1 + 6)
        if serverCapabilities & MySQLWire.Capability.mysql == 0 { serverExtendedCapabilities = cursor.uint32() ?? 0 }
        phase = .awaitingHandshakeResponse
    }

    /// The client's handshake response: agreed capabilities and the database it names. A
    /// bare SSL request or compression leaves nothing readable.
    mutating func readHandshakeResponse(_ packet: MySQLPacketReader.Packet, _ output: inout [ProtocolOutput]) {
        var cursor = MySQLPayloadCursor(packet.payload)
        guard let client = cursor.uint32() else { return }
        guard client & MySQLWire.Capability.protocol41 != 0 else {
            output.append(.decodeError(reason: "unsupported_protocol_version"))
            phase = .stopped
            return
        }
        capabilities = client & serverCapabilities
        if client & MySQLWire.Capability.ssl != 0 {
            output.append(.opaque(reason: "encrypted_session"))
            phase = .stopped
            return
        }
        if capabilities & MySQLWire.Capability.compress != 0 {
            output.append(.opaque(reason: "compressed_session"))
            phase = .stopped
            return
        }
        // Max packet size, character set, 19 filler bytes, MariaDB extended capabilities.
        _ = cursor.skip(4 + 1 + 19)
        let extended = cursor.uint32() ?? 0
        if client & MySQLWire.Capability.mysql == 0 { extendedCapabilities = extended & serverExtendedCapabilities }
        phase = .authenticating
        guard cursor.cString() != nil, skipAuthData(&cursor, client: client) else { return }
        if client & MySQLWire.Capability.connectWithDatabase != 0, let database = cursor.cString(), !database.isEmpty {
            namespace = String(boundedUTF8: database, limit: 128)
        }
    }

    /// Skips the authentication data of a handshake response or COM_CHANGE_USER, never read.
    func skipAuthData(_ cursor: inout MySQLPayloadCursor, client: UInt32) -> Bool {
        if client & MySQLWire.Capability.pluginAuthLengthEncodedData != 0 {
            guard let length = cursor.lengthEncoded() else { return false }
            return cursor.skip(length)
        }
        if client & MySQLWire.Capability.secureConnection != 0 {
            guard let length = cursor.byte() else { return false }
            return cursor.skip(Int(length))
        }
        return cursor.cString() != nil
    }

    /// Authentication goes on (switch requests, more data) until the server's OK or ERR.
    mutating func readAuthenticationResult(_ packet: MySQLPacketReader.Packet) {
        switch packet.payload.first {
        case MySQLWire.ok:
            phase = .commands
        case MySQLWire.error:
            phase = .stopped
        default:
            break
        }
    }
}

extension ArraySlice where Element == UInt8 {
    /// Whether `needle` occurs in the slice.
    func windowContains(_ needle: some Collection<UInt8>) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        var start = startIndex
        while endIndex - start >= needle.count {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
