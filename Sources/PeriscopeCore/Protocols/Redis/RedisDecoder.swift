/// Decodes one Redis connection (RESP2 and RESP3) into one operation per command, paired
/// with replies in order however many commands a client pipelines before reading.
/// `db.query.text` is the command and its key only (every argument with `keepQueryValues`),
/// never an `AUTH` or `HELLO … AUTH` password; `db.namespace` is the database index, 0
/// until a `SELECT` succeeds. Commands queued inside `MULTI` end with `EXEC`, each with its
/// own result; an error reply's first word is its status code.
///
/// Pub/sub: `SUBSCRIBE`-family commands end with their last confirmation; messages pushed
/// to a subscriber are no request of its own and give no span — each is counted as a
/// `pubsub_message` decode error (a documented limitation), as are other RESP3 pushes
/// (`push_message`). `MONITOR` and replication streams stop decoding.
public struct RedisDecoder: ProtocolDecoder {
    /// Commands awaiting their replies beyond this: the oldest is dropped
    /// (`too_many_pending`) and its reply skipped.
    public static let maxPendingCommands = 4096
    /// Commands queued in one transaction beyond this are not reported.
    public static let maxQueuedCommands = 1024

    struct Command: Sendable {
        var call: DatabaseCall
        var kind: RedisCommandKind
        /// Confirmations still expected (subscribe family).
        var confirmations = 1
        /// `SELECT`'s index.
        var database: Int?
    }

    let options: DatabaseQueryOptions
    var stopped = false
    /// The database index selected, as `db.namespace` reports it.
    public internal(set) var database: Int?
    var commands: RedisCommandReader
    var replies = RedisReplyReader()
    var pending = PendingQueue<Command>()
    /// Commands `MULTI` queued (answered `QUEUED`), ended by `EXEC`.
    var queued: [Command] = []
    var inTransaction = false
    /// Channels and patterns subscribed to, as the last confirmation counted them.
    var subscriptions = 0
    /// Replies of dropped commands still to skip.
    var skipReplies = 0
    var repliesLost = false
    var lastReplyTimestamp: UInt64 = 0
    var nextExchangeID: UInt64 = 1

    /// `initialDatabase`: the index a connection starts on (0); nil when decoding starts
    /// midway and a `SELECT` may have gone unseen.
    public init(options: DatabaseQueryOptions = DatabaseQueryOptions(), initialDatabase: Int? = 0) {
        self.options = options
        database = initialDatabase
        commands = RedisCommandReader(keepsAllArguments: options.keepQueryValues, keepTotal: options.maxQueryTextLength)
    }

    /// A decoder following a policy's `capture.keepQueryValues`; the database index is
    /// unknown when it joins a connection midway.
    public init(configuration: ProtocolConfiguration) {
        self.init(options: DatabaseQueryOptions(configuration), initialDatabase: configuration.joinsMidway ? nil : 0)
    }

    public var namespace: String? { database.map(String.init) }

    public mutating func receive(_ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        guard !stopped else { return }
        switch segment.stream {
        case .requests:
            commands.begin(segment.bytes, gap: segment.gap, timestamp: segment.timestamp, tid: segment.tid)
            while !stopped, let event = commands.next() {
                switch event {
                case .command(let start, let tid):
                    readCommand(start: start, tid: tid, &output)
                case .lostSync:
                    output.append(.lostSync)
                case .invalid(let reason):
                    output.append(.decodeError(reason: reason))
                    stopped = true
                }
            }
        case .responses:
            replies.begin(segment.bytes, gap: segment.gap, timestamp: segment.timestamp)
            while !stopped, let event = replies.next() {
                switch event {
                case .reply(let reply, let end):
                    readReply(reply, end: end, &output)
                case .lostSync:
                    output.append(.lostSync)
                    repliesLost = true
                case .invalid(let reason):
                    output.append(.decodeError(reason: reason))
                    stopped = true
                }
            }
            lastReplyTimestamp = segment.timestamp
        }
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        for command in queued + pending.drain() {
            output.append(.operation(command.call.operation(system: .redis, namespace: namespace, end: timestamp, abandoned: reason)))
        }
        queued = []
        stopped = true
    }

    func operation(_ call: DatabaseCall, end: UInt64) -> ProtocolOutput {
        .operation(call.operation(system: .redis, namespace: namespace, end: end))
    }
}
