/// Decodes one MySQL or MariaDB connection (client/server protocol 4.1) into one operation
/// per command: `COM_QUERY` with its statement, `COM_STMT_EXECUTE` with the text its
/// statement id was prepared from (a prepare is reported only when it fails), `COM_INIT_DB`
/// (`USE`, changing `db.namespace`) and `COM_PING`. Answers are read to their end — OK,
/// ERR, or result sets (rows counted, several per command when the server says more
/// follow) — and payloads longer than 0xFFFFFF bytes are followed across their packets.
///
/// The server speaks first: its greeting names the product (`mariadb` when its version
/// says MariaDB) and its capabilities; the client's handshake response names the database.
/// A client asking for TLS or compression makes the rest of the connection opaque
/// (`encrypted_session`, `compressed_session`). The same decoder serves both ends.
public struct MySQLDecoder: ProtocolDecoder {
    /// Commands awaiting their answers beyond this stop decoding (`too_many_pending`).
    public static let maxPendingCommands = 256
    /// Prepared statements remembered per connection.
    public static let maxStatements = 256

    enum Phase: Equatable {
        case awaitingGreeting
        case awaitingHandshakeResponse
        case authenticating
        case commands
        case stopped
    }

    /// How the answer to a command ends.
    enum Answer: Equatable {
        /// OK or ERR.
        case okOrError
        /// OK, ERR, LOCAL INFILE or result sets (text or binary rows).
        case resultSets
        /// PREPARE_OK and its parameter and column definitions, or ERR.
        case prepare
        /// Rows (or definitions) up to EOF, or ERR: COM_STMT_FETCH, COM_FIELD_LIST.
        case rows
        /// EOF or ERR.
        case eofOrError
        /// Any one packet: COM_STATISTICS.
        case anyPacket
    }

    /// Where the answer being read is.
    enum AnswerState: Equatable {
        case first
        case columns(remaining: Int)
        case columnsEOF
        case rows
        /// Parameter and column definitions of a PREPARE_OK, their EOFs included.
        case definitions(remaining: Int)
    }

    struct Command: Sendable {
        var answer: Answer
        var call: DatabaseCall
        /// Reported as an operation (queries, executions, `USE`, `PING`; prepares only failed).
        var reports: Bool
        var state = AnswerState.first
        var rows = 0
        var hadResultSet = false
        /// `COM_STMT_PREPARE`: what its statement id will stand for.
        var prepared: DatabaseQuery?
        /// `COM_INIT_DB`: the database it switches to.
        var database: String?
    }

    let options: DatabaseQueryOptions
    var phase = Phase.awaitingGreeting
    /// `mysql`, or `mariadb` once the greeting says so.
    public internal(set) var system = DatabaseSystem.mysql
    /// The database the handshake (or a later `USE`) named.
    public internal(set) var namespace: String?
    var serverCapabilities: UInt32 = 0
    var serverExtendedCapabilities: UInt32 = 0
    /// Capabilities both ends agreed on.
    var capabilities: UInt32 = 0
    var extendedCapabilities: UInt32 = 0
    var requests = MySQLPacketReader(keep: SQLSanitizer.maxInputLength + 64)
    var responses = MySQLPacketReader(keep: 1024)
    var commands = PendingQueue<Command>()
    var statements = StatementCache<UInt32>(capacity: MySQLDecoder.maxStatements)
    /// The client is sending a file the server asked for (LOCAL INFILE), up to an empty packet.
    var sendingFile = false
    var responsesLost = false
    var lastResponseTimestamp: UInt64 = 0
    var nextExchangeID: UInt64 = 1

    public init(options: DatabaseQueryOptions = DatabaseQueryOptions()) {
        self.options = options
    }

    /// A decoder following a policy's `capture.keepQueryValues`.
    public init(configuration: ProtocolConfiguration) {
        self.init(options: DatabaseQueryOptions(configuration))
    }

    public mutating func receive(_ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        guard phase != .stopped else { return }
        switch segment.stream {
        case .requests:
            requests.begin(segment.bytes, gap: segment.gap, timestamp: segment.timestamp, tid: segment.tid,
                           accepting: Self.startsWithCommand)
            while phase != .stopped, let event = requests.next() {
                switch event {
                case .lostSync:
                    output.append(.lostSync)
                    sendingFile = false
                case .packet(let packet):
                    handleRequest(packet, &output)
                }
            }
        case .responses:
            responses.begin(segment.bytes, gap: segment.gap, timestamp: segment.timestamp, tid: segment.tid)
            while phase != .stopped, let event = responses.next() {
                switch event {
                case .lostSync:
                    output.append(.lostSync)
                    responsesLost = true
                case .packet(let packet):
                    handleResponse(packet, timestamp: segment.timestamp, &output)
                }
            }
            lastResponseTimestamp = segment.timestamp
        }
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        for command in commands.drain() where command.reports {
            output.append(.operation(command.call.operation(system: system, namespace: namespace, end: timestamp, abandoned: reason)))
        }
        phase = .stopped
    }

    func operation(_ call: DatabaseCall, end: UInt64) -> ProtocolOutput {
        .operation(call.operation(system: system, namespace: namespace, end: end))
    }

    /// Whether a read that follows lost request bytes starts with a command: sequence 0, a
    /// known command byte, a possible length.
    static func startsWithCommand(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 5 else { return false }
        let start = bytes.startIndex
        let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16
        let command = bytes[start + 4]
        return bytes[start + 3] == 0 && length >= 1 && (command <= MySQLWire.Command.resetConnection || command == MySQLWire.Command.statementBulkExecute)
    }
}
