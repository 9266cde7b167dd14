/// What a Redis command's arguments say for its span: `db.operation.name` (the command,
/// with its subcommand for container commands such as `CLIENT SETNAME`) and
/// `db.query.text` (the command and its key; every argument with `keepQueryValues`, but
/// never a password).
enum RedisCommandText {
    /// Commands whose first argument is not a key.
    static let keyless: Set<String> = [
        "AUTH", "HELLO", "SELECT", "PING", "ECHO", "QUIT", "RESET", "MULTI", "EXEC", "DISCARD", "UNWATCH", "SAVE",
        "BGSAVE", "BGREWRITEAOF", "LASTSAVE", "DBSIZE", "FLUSHDB", "FLUSHALL", "INFO", "TIME", "ROLE", "MONITOR",
        "SYNC", "PSYNC", "SHUTDOWN", "SWAPDB", "WAIT", "WAITAOF", "READONLY", "READWRITE", "ASKING", "REPLICAOF",
        "SLAVEOF", "FAILOVER", "KEYS", "SCAN", "RANDOMKEY", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
        "PUNSUBSCRIBE", "SUNSUBSCRIBE", "PUBLISH", "SPUBLISH", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL",
        "FCALL_RO", "BITOP", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "SINTERCARD", "LMPOP", "ZMPOP", "BLMPOP",
        "BZMPOP", "XREAD", "XREADGROUP", "MIGRATE", "DEBUG", "LOLWUT",
    ]
    /// Commands whose first argument is a subcommand.
    static let containers: Set<String> = [
        "CLIENT", "CONFIG", "CLUSTER", "COMMAND", "SCRIPT", "FUNCTION", "XINFO", "XGROUP", "OBJECT", "MEMORY", "ACL",
        "SLOWLOG", "LATENCY", "MODULE", "PUBSUB",
    ]

    static func kind(of operation: String) -> RedisCommandKind {
        switch operation {
        case "SELECT": .select
        case "MULTI": .multi
        case "EXEC": .exec
        case "DISCARD": .discard
        case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE": .subscribe
        case "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE": .unsubscribe
        case "RESET": .reset
        case "MONITOR", "SYNC", "PSYNC": .stream
        default: .regular
        }
    }

    static func query(_ reader: RedisCommandReader, options: DatabaseQueryOptions) -> DatabaseQuery {
        guard let name = reader.argument(0), let command = RedisSyntax.uppercased(name) else {
            return DatabaseQuery(operation: nil)
        }
        var operation = command
        if containers.contains(command), let sub = reader.argument(1), let subcommand = RedisSyntax.uppercased(sub) {
            operation = command + " " + subcommand
        }
        var text: String
        if options.keepQueryValues {
            text = ""
            var hidden = hiddenArguments(command, reader)
            for index in 0..<reader.arguments.count {
                if index > 0 { text += " " }
                if index == 0 {
                    text += command
                } else if hidden.remove(index) != nil {
                    text += "?"
                } else {
                    text += String(boundedUTF8: reader.argument(index) ?? [], limit: options.maxQueryTextLength)
                }
                if text.utf8.count >= options.maxQueryTextLength { break }
            }
        } else {
            text = operation
            if !keyless.contains(command), !containers.contains(command), let key = reader.argument(1) {
                text += " " + String(boundedUTF8: key, limit: 256)
            }
        }
        return DatabaseQuery(operation: operation, text: String(boundedUTF8: ArraySlice(text.utf8), limit: options.maxQueryTextLength))
    }

    /// Arguments never shown: passwords of `AUTH`, `HELLO … AUTH`, `MIGRATE … AUTH/AUTH2`,
    /// `CONFIG SET` of a password setting and `ACL SETUSER` rules.
    static func hiddenArguments(_ command: String, _ reader: RedisCommandReader) -> Set<Int> {
        let count = reader.arguments.count
        func upper(_ index: Int) -> String? { reader.argument(index).flatMap(RedisSyntax.uppercased) }
        switch command {
        case "AUTH":
            return Set(1..<max(1, count))
        case "HELLO", "MIGRATE":
            var hidden: Set<Int> = []
            for index in 1..<max(1, count) where upper(index) == "AUTH" || upper(index) == "AUTH2" {
                hidden.formUnion((index + 1)..<min(count, index + 3))
            }
            return hidden
        case "CONFIG" where upper(1) == "SET":
            return Set(stride(from: 3, to: count, by: 2))
        case "ACL" where upper(1) == "SETUSER":
            return Set(3..<max(3, count))
        default:
            return []
        }
    }

    /// An error reply's first word (`ERR`, `WRONGTYPE`, `NOAUTH`, …) and its message,
    /// without the arguments Redis echoes for unknown commands unless values are kept.
    static func error(_ text: [UInt8], keepValues: Bool) -> (code: String, message: String) {
        let word = text.prefix { $0 != UInt8(ascii: " ") }
        let code = word.isEmpty ? "ERR" : String(boundedUTF8: word, limit: 32)
        var message = String(boundedUTF8: text[...], limit: DatabaseCall.maxErrorMessageLength)
        if !keepValues, let echoed = message.firstRange(of: ", with args beginning with:") {
            message = String(message[..<echoed.lowerBound])
        }
        return (code, message)
    }
}
