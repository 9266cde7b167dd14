extension MySQLDecoder {
    mutating func handleResponse(_ packet: MySQLPacketReader.Packet, timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        switch phase {
        case .awaitingGreeting:
            readGreeting(packet, &output)
        case .authenticating:
            readAuthenticationResult(packet)
        case .commands:
            guard !packet.isContinuation else { return }
            readAnswer(packet, timestamp: timestamp, &output)
        case .awaitingHandshakeResponse, .stopped:
            break
        }
    }

    private var deprecatesEOF: Bool { capabilities & MySQLWire.Capability.deprecateEOF != 0 }

    private mutating func readAnswer(_ packet: MySQLPacketReader.Packet, timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        // An answer with no command waiting belongs to one not seen: skipped.
        guard var command = commands.first else { return }
        let payload = packet.payload
        let first = payload.first
        let isEOF = first == MySQLWire.eof && packet.length < 9
        switch command.state {
        case .first:
            if first == MySQLWire.error {
                fail(&command, payload)
                complete(command, end: timestamp, &output)
                return
            }
            switch command.answer {
            case .prepare where first == MySQLWire.ok:
                var cursor = MySQLPayloadCursor(payload.dropFirst())
                guard let id = cursor.uint32(), let columns = cursor.uint16(), let parameters = cursor.uint16() else {
                    complete(command, end: timestamp, &output)
                    return
                }
                if let prepared = command.prepared { statements.store(prepared, for: id) }
                let eofs = (parameters > 0 ? 1 : 0) + (columns > 0 ? 1 : 0)
                let remaining = Int(parameters) + Int(columns) + (deprecatesEOF ? 0 : eofs)
                guard remaining > 0 else {
                    complete(command, end: timestamp, &output)
                    return
                }
                command.state = .definitions(remaining: remaining)
            case .okOrError:
                if first == MySQLWire.ok, let database = command.database { namespace = database }
                complete(command, end: timestamp, &output)
                return
            case .resultSets where first == MySQLWire.ok:
                // More result sets may follow (several statements in one query).
                if Self.okStatus(payload) & MySQLWire.moreResultsExist != 0 { break }
                complete(command, end: timestamp, &output)
                return
            case .resultSets where first == MySQLWire.localInfile:
                sendingFile = true
            case .resultSets:
                var cursor = MySQLPayloadCursor(payload)
                guard cursor.lengthEncoded() != nil else {
                    complete(command, end: timestamp, &output)
                    return
                }
                command.hadResultSet = true
                let optional = capabilities & MySQLWire.Capability.optionalResultsetMetadata != 0
                    || extendedCapabilities & MySQLWire.Capability.mariaDBCacheMetadata != 0
                let count = MySQLPayloadCursor(payload).lengthEncodedValue ?? 0
                if optional, cursor.byte() == 0 {
                    // Column definitions left out: the client has them cached.
                    command.state = .rows
                } else {
                    command.state = count > 0 ? .columns(remaining: count) : .rows
                }
            default:
                // EOF, a statistics string, or an OK where none was expected: the answer.
                complete(command, end: timestamp, &output)
                return
            }
        case .columns(let remaining):
            command.state = remaining > 1 ? .columns(remaining: remaining - 1) : deprecatesEOF ? .rows : .columnsEOF
        case .columnsEOF:
            command.state = .rows
            if !isEOF { command.rows += 1 }
        case .rows:
            if first == MySQLWire.error {
                fail(&command, payload)
                complete(command, end: timestamp, &output)
                return
            }
            let terminator = first == MySQLWire.eof && (deprecatesEOF ? packet.length < MySQLPacketReader.maxPayloadLength : packet.length < 9)
            guard terminator else {
                command.rows += 1
                break
            }
            let status = deprecatesEOF ? Self.okStatus(payload) : Self.eofStatus(payload)
            if command.answer == .resultSets, status & MySQLWire.moreResultsExist != 0 {
                command.state = .first
                break
            }
            complete(command, end: timestamp, &output)
            return
        case .definitions(let remaining):
            guard remaining > 1 else {
                complete(command, end: timestamp, &output)
                return
            }
            command.state = .definitions(remaining: remaining - 1)
        }
        commands.first = command
    }

    private mutating func fail(_ command: inout Command, _ payload: ArraySlice<UInt8>) {
        var cursor = MySQLPayloadCursor(payload.dropFirst())
        guard let code = cursor.uint16() else { return }
        if cursor.remaining.first == UInt8(ascii: "#") { _ = cursor.skip(6) }
        command.call.errorCode = String(code)
        command.call.errorMessage = String(boundedUTF8: cursor.remaining, limit: DatabaseCall.maxErrorMessageLength)
        // A failed prepare is reported: the statement it named never ran.
        command.reports = command.reports || command.answer == .prepare
    }

    private mutating func complete(_ command: Command, end: UInt64, _ output: inout [ProtocolOutput]) {
        commands.popFirst()
        guard command.reports else { return }
        var call = command.call
        if command.hadResultSet { call.returnedRows = command.rows }
        output.append(operation(call, end: end))
    }

    /// Status flags of an OK packet (or of the 0xFE-headed OK ending rows).
    static func okStatus(_ payload: ArraySlice<UInt8>) -> UInt16 {
        var cursor = MySQLPayloadCursor(payload.dropFirst())
        guard cursor.lengthEncoded() != nil, cursor.lengthEncoded() != nil else { return 0 }
        return cursor.uint16() ?? 0
    }

    /// Status flags of an EOF packet.
    static func eofStatus(_ payload: ArraySlice<UInt8>) -> UInt16 {
        var cursor = MySQLPayloadCursor(payload.dropFirst())
        guard cursor.skip(2) else { return 0 }
        return cursor.uint16() ?? 0
    }
}

extension MySQLPayloadCursor {
    /// The length-encoded integer the payload starts with.
    var lengthEncodedValue: Int? {
        var copy = self
        return copy.lengthEncoded()
    }
}
