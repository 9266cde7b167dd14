/// Commands whose replies change how the connection is read.
enum RedisCommandKind: Sendable, Equatable {
    case regular
    case select
    case multi
    case exec
    case discard
    /// `SUBSCRIBE`, `PSUBSCRIBE`, `SSUBSCRIBE`: one confirmation per channel.
    case subscribe
    /// `UNSUBSCRIBE`, `PUNSUBSCRIBE`, `SUNSUBSCRIBE`: one per channel, or per subscription left.
    case unsubscribe
    case reset
    /// `MONITOR`, `SYNC`, `PSYNC`: what follows is no longer replies.
    case stream
}
