extension RedisDecoder {
    mutating func readCommand(start: UInt64, tid: Int32, _ output: inout [ProtocolOutput]) {
        if repliesLost {
            // The client sends on once it has read what it waited for: what waited ended.
            repliesLost = false
            replies.resynchronize()
            for command in pending.drain() {
                output.append(operation(command.call, end: lastReplyTimestamp))
            }
            skipReplies = 0
        }
        let query = RedisCommandText.query(commands, options: options)
        let kind = query.operation.map(RedisCommandText.kind) ?? .regular
        var command = Command(call: DatabaseCall(start: start, tid: tid, query: query), kind: kind)
        let channels = max(0, commands.argumentCount - 1)
        switch kind {
        case .subscribe:
            command.confirmations = max(1, channels)
        case .unsubscribe:
            command.confirmations = channels > 0 ? channels : max(1, subscriptions)
        case .select:
            command.database = commands.argument(1).flatMap { RedisSyntax.integer($0) }
        default:
            break
        }
        if pending.count >= Self.maxPendingCommands, let dropped = pending.popFirst() {
            skipReplies += 1
            output.append(.decodeError(reason: "too_many_pending"))
            output.append(.operation(dropped.call.operation(
                system: .redis, namespace: namespace, end: start, abandoned: "too many commands awaiting replies")))
        }
        output.append(command.call.announce(nextExchangeID))
        nextExchangeID &+= 1
        pending.append(command)
    }
}
