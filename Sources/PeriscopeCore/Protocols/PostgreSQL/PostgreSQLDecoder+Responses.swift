extension PostgreSQLDecoder {
    mutating func handleResponse(_ event: PostgreSQLMessageReader.Event, timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        switch event {
        case .lostSync:
            output.append(.lostSync)
            responsesLost = true
        case .invalid(let reason):
            output.append(.decodeError(reason: reason))
            phase = .stopped
        case .message(let message):
            handleBackend(message, timestamp: timestamp, &output)
        }
    }

    private mutating func handleBackend(_ message: PostgreSQLMessageReader.Message, timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        switch message.type {
        case PostgreSQLMessageType.dataRow:
            if var unit = units.first, unit.kind == .query || unit.kind == .execute {
                unit.rows += 1
                units.first = unit
            }
        case PostgreSQLMessageType.commandComplete:
            commandComplete(tag: message.body, timestamp: timestamp, &output)
        case PostgreSQLMessageType.emptyQueryResponse, PostgreSQLMessageType.portalSuspended:
            if let unit = units.first, unit.kind == .execute {
                units.popFirst()
                output.append(completed(unit, end: timestamp))
            }
        case PostgreSQLMessageType.errorResponse:
            errorResponse(message.body, timestamp: timestamp, &output)
        case PostgreSQLMessageType.readyForQuery:
            if phase == .startup { phase = .session }
            readyForQuery(timestamp: timestamp, &output)
        default:
            // Authentication, parameters, row descriptions, parse/bind/close completions,
            // copy responses and data, notices and notifications change no operation.
            break
        }
    }

    /// `CommandComplete` ends an `Execute`, or one statement of a simple `Query`.
    private mutating func commandComplete(tag: ArraySlice<UInt8>, timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        guard var unit = units.first else { return }
        let command = tag.prefix { $0 != UInt8(ascii: " ") && $0 != 0 }
        let returnsRows = command.elementsEqual("SELECT".utf8) || command.elementsEqual("FETCH".utf8)
        switch unit.kind {
        case .execute:
            units.popFirst()
            if unit.call.query.operation == nil { unit.call.query.operation = SQLSanitizer.uppercased(command) }
            unit.returnsRows = unit.returnsRows || returnsRows
            output.append(completed(unit, end: timestamp))
        case .query:
            unit.returnsRows = unit.returnsRows || returnsRows
            units.first = unit
        case .lost:
            // A statement whose request was not captured: its answer still names it.
            var call = unit.call
            call.query = DatabaseQuery(operation: SQLSanitizer.uppercased(command))
            output.append(operation(call, end: timestamp))
        case .sync, .functionCall:
            break
        }
    }

    /// An error answers the first unit waiting; in a batch the server then skips every
    /// message up to `Sync`, so the executions queued before it get no answer.
    private mutating func errorResponse(_ body: ArraySlice<UInt8>, timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        guard var unit = units.first, phase == .session else { return }
        let (code, message) = Self.errorFields(body)
        switch unit.kind {
        case .execute:
            units.popFirst()
            unit.call.errorCode = code
            unit.call.errorMessage = message
            output.append(completed(unit, end: timestamp))
            skipToSync(end: timestamp, &output)
        case .query:
            if unit.call.errorCode == nil {
                unit.call.errorCode = code
                unit.call.errorMessage = message
            }
            units.first = unit
        case .sync:
            // A message other than Execute failed (a Parse, a Bind): the statement it
            // prepared is reported as failed.
            guard !unit.reported else { return }
            unit.reported = true
            unit.call.errorCode = code
            unit.call.errorMessage = message
            units.first = unit
            output.append(operation(unit.call, end: timestamp))
        case .functionCall, .lost:
            break
        }
    }

    /// `ReadyForQuery` ends a simple query or a batch; units still waiting before it were
    /// answered in bytes not seen and end here.
    private mutating func readyForQuery(timestamp: UInt64, _ output: inout [ProtocolOutput]) {
        while let unit = units.popFirst() {
            switch unit.kind {
            case .execute:
                output.append(completed(unit, end: timestamp))
                continue
            case .query:
                output.append(completed(unit, end: timestamp))
            case .sync, .functionCall, .lost:
                break
            }
            return
        }
    }

    /// After an error the server skips the batch up to its `Sync`: the executions queued
    /// before it never run, and fail as the client sees them fail (pipeline aborted).
    private mutating func skipToSync(end: UInt64, _ output: inout [ProtocolOutput]) {
        while let next = units.first, next.kind == .execute {
            units.popFirst()
            var call = next.call
            call.errorMessage = "not run: an earlier statement of the batch failed"
            output.append(.operation(call.operation(system: .postgresql, namespace: namespace, end: end, abandoned: call.errorMessage)))
        }
    }

    private func completed(_ unit: Unit, end: UInt64) -> ProtocolOutput {
        var call = unit.call
        if unit.rows > 0 || unit.returnsRows { call.returnedRows = unit.rows }
        return operation(call, end: end)
    }

    /// SQLSTATE (`C`) and message (`M`) of an ErrorResponse's fields.
    static func errorFields(_ body: ArraySlice<UInt8>) -> (code: String?, message: String?) {
        var code: String?
        var message: String?
        var index = body.startIndex
        while index < body.endIndex, body[index] != 0 {
            let field = body[index]
            guard let (value, next) = cString(body, at: index + 1) else {
                if field == UInt8(ascii: "M") { message = String(boundedUTF8: body[(index + 1)...], limit: DatabaseCall.maxErrorMessageLength) }
                break
            }
            if field == UInt8(ascii: "C") {
                code = String(boundedUTF8: value, limit: 5)
            } else if field == UInt8(ascii: "M") {
                message = String(boundedUTF8: value, limit: DatabaseCall.maxErrorMessageLength)
            }
            index = next
        }
        return (code, message)
    }
}
