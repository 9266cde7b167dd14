extension RedisDecoder {
    mutating func readReply(_ reply: RedisReplyReader.Reply, end: UInt64, _ output: inout [ProtocolOutput]) {
        let aggregate = reply.type == UInt8(ascii: "*") || reply.type == UInt8(ascii: ">")
        let first = reply.firstElement[...]
        if aggregate, Self.isPubSubMessage(first), reply.type == UInt8(ascii: ">") || subscriptions > 0 {
            output.append(.opaque(reason: "pubsub_message"))
            return
        }
        if aggregate, Self.isSubscription(first) {
            if let count = reply.thirdInteger { subscriptions = max(0, count) }
            guard var command = pending.first, command.kind == .subscribe || command.kind == .unsubscribe else { return }
            command.confirmations -= 1
            if command.confirmations > 0 {
                pending.first = command
            } else {
                pending.popFirst()
                output.append(operation(command.call, end: end))
            }
            return
        }
        if reply.type == UInt8(ascii: ">") {
            // Out of band (client-side caching invalidations and the like).
            output.append(.opaque(reason: "push_message"))
            return
        }
        if skipReplies > 0 {
            skipReplies -= 1
            return
        }
        guard var command = pending.popFirst() else { return }
        if reply.isError {
            let (code, message) = RedisCommandText.error(reply.error, keepValues: options.keepQueryValues)
            command.call.errorCode = code
            command.call.errorMessage = message
        }
        let failed = reply.isError
        switch command.kind {
        case .regular where inTransaction && reply.type == UInt8(ascii: "+") && reply.firstElement.elementsEqual("QUEUED".utf8):
            // Runs at EXEC, which ends it.
            if queued.count < Self.maxQueuedCommands {
                queued.append(command)
                return
            }
        case .select where !failed:
            database = command.database ?? database
        case .multi where !failed:
            dropQueued(because: "not run: transaction ended unseen", end: end, &output)
            inTransaction = true
        case .exec:
            inTransaction = false
            if failed {
                dropQueued(because: "not run: transaction aborted", end: end, &output)
            } else if reply.isNull {
                dropQueued(because: "not run: a watched key changed", end: end, &output)
            } else {
                for (index, var call) in queued.map(\.call).enumerated() {
                    if let error = reply.elementErrors.first(where: { $0.index == index }) {
                        let (code, message) = RedisCommandText.error(error.text, keepValues: options.keepQueryValues)
                        call.errorCode = code
                        call.errorMessage = message
                    }
                    output.append(operation(call, end: end))
                }
                queued = []
            }
        case .discard:
            inTransaction = false
            dropQueued(because: "not run: transaction discarded", end: end, &output)
        case .reset where !failed:
            database = 0
            subscriptions = 0
            inTransaction = false
            dropQueued(because: "not run: transaction discarded", end: end, &output)
        case .stream where !failed:
            output.append(operation(command.call, end: end))
            output.append(.opaque(reason: "unsupported_stream"))
            stopped = true
            return
        default:
            break
        }
        output.append(operation(command.call, end: end))
    }

    /// Queued commands that will not run end with `reason`.
    mutating func dropQueued(because reason: String, end: UInt64, _ output: inout [ProtocolOutput]) {
        for command in queued {
            output.append(.operation(command.call.operation(system: .redis, namespace: namespace, end: end, abandoned: reason)))
        }
        queued = []
    }

    static func isPubSubMessage(_ kind: ArraySlice<UInt8>) -> Bool {
        kind.elementsEqual("message".utf8) || kind.elementsEqual("pmessage".utf8) || kind.elementsEqual("smessage".utf8)
    }

    static func isSubscription(_ kind: ArraySlice<UInt8>) -> Bool {
        kind.elementsEqual("subscribe".utf8) || kind.elementsEqual("psubscribe".utf8) || kind.elementsEqual("ssubscribe".utf8)
            || kind.elementsEqual("unsubscribe".utf8) || kind.elementsEqual("punsubscribe".utf8)
            || kind.elementsEqual("sunsubscribe".utf8)
    }
}
