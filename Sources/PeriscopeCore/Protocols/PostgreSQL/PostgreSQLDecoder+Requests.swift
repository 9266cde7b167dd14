extension PostgreSQLDecoder {
    mutating func handleRequest(_ event: PostgreSQLMessageReader.Event, _ output: inout [ProtocolOutput]) {
        switch event {
        case .lostSync:
            output.append(.lostSync)
            batch = nil
            if units.last?.kind != .lost {
                let call = DatabaseCall(start: requestSegment.timestamp, tid: requestSegment.tid, query: DatabaseQuery(operation: nil))
                enqueue(Unit(kind: .lost, call: call), &output)
            }
        case .invalid(let reason):
            output.append(.decodeError(reason: reason))
            phase = .stopped
        case .message(let message):
            if message.type == 0 {
                handleStartupPhase(message, &output)
            } else {
                handleTyped(message, &output)
            }
        }
    }

    private mutating func handleStartupPhase(_ message: PostgreSQLMessageReader.Message, _ output: inout [ProtocolOutput]) {
        let body = message.body
        guard body.count >= 4 else { return }
        let code = UInt32(body[body.startIndex]) << 24 | UInt32(body[body.startIndex + 1]) << 16
            | UInt32(body[body.startIndex + 2]) << 8 | UInt32(body[body.startIndex + 3])
        switch code {
        case PostgreSQLMessageType.sslRequest, PostgreSQLMessageType.gssEncryptionRequest:
            phase = .awaitingEncryptionAnswer
        case PostgreSQLMessageType.cancelRequest:
            break
        case _ where code >> 16 == 3:
            readStartupParameters(body.dropFirst(4))
            requests.untyped = false
            phase = .session
        default:
            output.append(.decodeError(reason: "unsupported_protocol_version"))
            phase = .stopped
        }
    }

    /// `key\0value\0…\0`: the database, else the user (the server's default database).
    private mutating func readStartupParameters(_ parameters: ArraySlice<UInt8>) {
        var index = parameters.startIndex
        var database: String?
        var user: String?
        while let (key, afterKey) = Self.cString(parameters, at: index), !key.isEmpty,
              let (value, afterValue) = Self.cString(parameters, at: afterKey) {
            if key.elementsEqual("database".utf8) {
                database = String(boundedUTF8: value, limit: 128)
            } else if key.elementsEqual("user".utf8) {
                user = String(boundedUTF8: value, limit: 128)
            }
            index = afterValue
        }
        namespace = database.flatMap { $0.isEmpty ? nil : $0 } ?? user
    }

    private mutating func handleTyped(_ message: PostgreSQLMessageReader.Message, _ output: inout [ProtocolOutput]) {
        let body = message.body
        switch message.type {
        case PostgreSQLMessageType.query:
            batch = nil
            let query = summarize(body)
            enqueue(Unit(kind: .query, call: DatabaseCall(start: message.start, tid: message.tid, query: query)), &output)
        case PostgreSQLMessageType.parse:
            openBatch(message)
            guard let (name, afterName) = Self.cString(body, at: body.startIndex) else { return }
            let text = body[afterName...]
            let query = summarize(text.firstIndex(of: 0).map { text[..<$0] } ?? text)
            statements.store(query, for: Self.key(name))
            batch?.query = query
        case PostgreSQLMessageType.bind:
            openBatch(message)
            guard let (portal, afterPortal) = Self.cString(body, at: body.startIndex),
                  let (statement, _) = Self.cString(body, at: afterPortal) else { return }
            if let query = statements[Self.key(statement)] {
                portals.store(query, for: Self.key(portal))
                batch?.query = query
            } else {
                portals.remove(Self.key(portal))
            }
        case PostgreSQLMessageType.execute:
            let start = batch?.start ?? message.start
            let tid = batch?.tid ?? message.tid
            batch = nil
            let portal = Self.cString(body, at: body.startIndex)?.0 ?? []
            let query = portals[Self.key(portal)] ?? DatabaseQuery(operation: nil)
            enqueue(Unit(kind: .execute, call: DatabaseCall(start: start, tid: tid, query: query)), &output)
        case PostgreSQLMessageType.sync:
            let start = batch?.start ?? message.start
            let tid = batch?.tid ?? message.tid
            let leftover = batch?.query ?? DatabaseQuery(operation: nil)
            batch = nil
            enqueue(Unit(kind: .sync, call: DatabaseCall(start: start, tid: tid, query: leftover)), &output)
        case PostgreSQLMessageType.close:
            openBatch(message)
            guard let kind = body.first, let (name, _) = Self.cString(body, at: body.startIndex + 1) else { return }
            if kind == UInt8(ascii: "S") { statements.remove(Self.key(name)) } else { portals.remove(Self.key(name)) }
        case PostgreSQLMessageType.describe, PostgreSQLMessageType.flush:
            openBatch(message)
        case PostgreSQLMessageType.functionCall:
            batch = nil
            enqueue(Unit(kind: .functionCall, call: DatabaseCall(start: message.start, tid: message.tid, query: DatabaseQuery(operation: nil))), &output)
        default:
            // Terminate, copy data, copy done or fail, password messages.
            break
        }
    }

    private mutating func openBatch(_ message: PostgreSQLMessageReader.Message) {
        if batch == nil { batch = Batch(start: message.start, tid: message.tid) }
    }

    private func summarize(_ text: ArraySlice<UInt8>) -> DatabaseQuery {
        let text = text.last == 0 ? text.dropLast() : text
        return SQLSanitizer.query(text, dialect: .postgresql, options: options)
    }

    /// Queues a unit awaiting its answer. When responses were lost, what waited is ended
    /// first: the client sends a new statement only once it has read its answers.
    private mutating func enqueue(_ unit: Unit, _ output: inout [ProtocolOutput]) {
        if responsesLost, unit.kind != .lost {
            responsesLost = false
            for waiting in units.drain() where (waiting.kind == .query || waiting.kind == .execute) && !waiting.reported {
                output.append(operation(waiting.call, end: lastResponseTimestamp))
            }
        }
        guard units.count < Self.maxPendingUnits else {
            output.append(.decodeError(reason: "too_many_pending"))
            phase = .stopped
            return
        }
        var unit = unit
        if unit.kind == .query || unit.kind == .execute {
            output.append(unit.call.announce(nextExchangeID))
            nextExchangeID &+= 1
        }
        units.append(unit)
    }
}
