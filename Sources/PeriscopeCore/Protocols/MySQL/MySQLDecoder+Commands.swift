extension MySQLDecoder {
    mutating func handleRequest(_ packet: MySQLPacketReader.Packet, _ output: inout [ProtocolOutput]) {
        switch phase {
        case .awaitingHandshakeResponse:
            readHandshakeResponse(packet, &output)
        case .commands:
            guard !packet.isContinuation else { return }
            if sendingFile {
                // File contents, ended by an empty packet; the server's OK or ERR follows.
                if packet.length == 0 { sendingFile = false }
                return
            }
            readCommand(packet, &output)
        case .awaitingGreeting, .authenticating, .stopped:
            // Authentication data is never read.
            break
        }
    }

    private mutating func readCommand(_ packet: MySQLPacketReader.Packet, _ output: inout [ProtocolOutput]) {
        guard let command = packet.payload.first else { return }
        let body = packet.payload.dropFirst()
        let call = { (query: DatabaseQuery) in DatabaseCall(start: packet.start, tid: packet.tid, query: query) }
        switch command {
        case MySQLWire.Command.query:
            enqueue(Command(answer: .resultSets, call: call(summarize(queryText(body))), reports: true), &output)
        case MySQLWire.Command.statementExecute, MySQLWire.Command.statementBulkExecute:
            var cursor = MySQLPayloadCursor(body)
            let query = cursor.uint32().flatMap { statements[$0] } ?? DatabaseQuery(operation: "EXECUTE")
            enqueue(Command(answer: .resultSets, call: call(query), reports: true), &output)
        case MySQLWire.Command.statementPrepare:
            let query = summarize(body)
            var prepare = Command(answer: .prepare, call: call(query), reports: false)
            prepare.prepared = query
            enqueue(prepare, &output)
        case MySQLWire.Command.statementClose:
            var cursor = MySQLPayloadCursor(body)
            if let id = cursor.uint32() { statements.remove(id) }
        case MySQLWire.Command.initDB:
            var use = Command(answer: .okOrError, call: call(DatabaseQuery(operation: "USE")), reports: true)
            use.database = String(boundedUTF8: body, limit: 128)
            enqueue(use, &output)
        case MySQLWire.Command.ping:
            enqueue(Command(answer: .okOrError, call: call(DatabaseQuery(operation: "PING")), reports: true), &output)
        case MySQLWire.Command.quit, MySQLWire.Command.statementSendLongData:
            // No answer.
            break
        case MySQLWire.Command.processKill, MySQLWire.Command.statementReset, MySQLWire.Command.resetConnection:
            enqueue(Command(answer: .okOrError, call: call(DatabaseQuery(operation: nil)), reports: false), &output)
        case MySQLWire.Command.setOption, MySQLWire.Command.debug:
            enqueue(Command(answer: .eofOrError, call: call(DatabaseQuery(operation: nil)), reports: false), &output)
        case MySQLWire.Command.statementFetch, MySQLWire.Command.fieldList:
            var fetch = Command(answer: .rows, call: call(DatabaseQuery(operation: nil)), reports: false)
            fetch.state = .rows
            enqueue(fetch, &output)
        case MySQLWire.Command.statistics:
            enqueue(Command(answer: .anyPacket, call: call(DatabaseQuery(operation: nil)), reports: false), &output)
        case MySQLWire.Command.changeUser:
            changeUser(body)
        case MySQLWire.Command.binlogDump, MySQLWire.Command.binlogDumpGTID, MySQLWire.Command.registerReplica:
            output.append(.opaque(reason: "replication_stream"))
            phase = .stopped
        default:
            output.append(.decodeError(reason: "unknown_command"))
            phase = .stopped
        }
    }

    /// COM_QUERY's text; with query attributes (MySQL 8) the attributes come first.
    private func queryText(_ body: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard capabilities & MySQLWire.Capability.queryAttributes != 0 else { return body }
        var cursor = MySQLPayloadCursor(body)
        guard let count = cursor.lengthEncoded(), cursor.lengthEncoded() != nil else { return [] }
        guard count > 0 else { return cursor.remaining }
        guard count <= 4096, MySQLBinaryValues.skipParameters(&cursor, count: count) else { return [] }
        return cursor.remaining
    }

    /// COM_CHANGE_USER authenticates again, possibly into another database.
    private mutating func changeUser(_ body: ArraySlice<UInt8>) {
        var cursor = MySQLPayloadCursor(body)
        phase = .authenticating
        guard cursor.cString() != nil, skipAuthData(&cursor, client: capabilities) else { return }
        if let database = cursor.cString() {
            namespace = database.isEmpty ? nil : String(boundedUTF8: database, limit: 128)
        }
    }

    private func summarize(_ text: ArraySlice<UInt8>) -> DatabaseQuery {
        SQLSanitizer.query(text, dialect: .mysql, options: options)
    }

    /// Queues a command awaiting its answer. When answers were lost, what waited is ended
    /// first: a client sends its next command once it has read the last answer.
    private mutating func enqueue(_ command: Command, _ output: inout [ProtocolOutput]) {
        if responsesLost {
            responsesLost = false
            responses.resynchronize()
            for waiting in commands.drain() where waiting.reports {
                output.append(operation(waiting.call, end: lastResponseTimestamp))
            }
        }
        guard commands.count < Self.maxPendingCommands else {
            output.append(.decodeError(reason: "too_many_pending"))
            phase = .stopped
            return
        }
        var command = command
        if command.reports {
            output.append(command.call.announce(nextExchangeID))
            nextExchangeID &+= 1
        }
        commands.append(command)
    }
}
