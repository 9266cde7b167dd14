/// Decodes one PostgreSQL connection (frontend/backend protocol 3.0) into one operation per
/// statement run: each simple `Query` message, and each `Execute` of the extended protocol
/// with the text its statement was parsed from — a statement parsed once and executed many
/// times gives one operation per execution. Pipelined batches pair with their answers in
/// order; an error answers the message that failed and the server skips the rest of the
/// batch up to `Sync`. COPY runs inside the statement that started it.
///
/// Each statement is announced (`.requestStarted`) when its `Query` or `Execute` is read or
/// written, under an exchange id its operation repeats.
///
/// The same decoder serves both ends: a client writes requests and reads responses, the
/// server reads requests and writes responses. An accepted `SSLRequest` or
/// `GSSENCRequest` makes the rest of the connection opaque (reported once as
/// `encrypted_session`).
public struct PostgreSQLDecoder: ProtocolDecoder {
    /// Statements awaiting their answers beyond this stop decoding (`too_many_pending`).
    public static let maxPendingUnits = 2048
    /// Named prepared statements and portals remembered per connection.
    public static let maxStatements = 256
    public static let maxPortals = 64

    enum Phase: Equatable {
        /// Before the startup message (or after an encryption request was refused).
        case startup
        /// An `SSLRequest` or `GSSENCRequest` awaits its one-byte answer.
        case awaitingEncryptionAnswer
        case session
        /// Encrypted or not PostgreSQL: nothing more is read.
        case stopped
    }

    /// What the server answers in order: every `Query`, `Execute` and `Sync` (the other
    /// extended-protocol messages are folded into the unit they prepare).
    struct Unit: Sendable {
        enum Kind: Equatable {
            case query
            case execute
            /// Ends a batch; carries the statement parsed after its last `Execute`, if any,
            /// so that a failing prepare is reported.
            case sync
            case functionCall
            /// Requests were not captured here.
            case lost
        }

        var kind: Kind
        var call: DatabaseCall
        var rows = 0
        /// A row-returning command completed (`SELECT n`, `FETCH n`).
        var returnsRows = false
        /// An error was already reported for this unit.
        var reported = false
    }

    /// Extended-protocol messages since the last `Execute` or `Sync`.
    struct Batch: Sendable {
        var start: UInt64
        var tid: Int32
        /// The statement last parsed or bound in it.
        var query: DatabaseQuery?
    }

    let options: DatabaseQueryOptions
    var phase = Phase.startup
    /// The database the startup message named (its user's name when it named none).
    public internal(set) var namespace: String?
    var requests = PostgreSQLMessageReader(frontend: true)
    var responses = PostgreSQLMessageReader(frontend: false)
    var units = PendingQueue<Unit>()
    var batch: Batch?
    var statements = StatementCache<UInt64>(capacity: PostgreSQLDecoder.maxStatements)
    var portals = StatementCache<UInt64>(capacity: PostgreSQLDecoder.maxPortals)
    /// Responses were not captured: the units waiting are ended when the client sends its
    /// next statement.
    var responsesLost = false
    var lastResponseTimestamp: UInt64 = 0
    var sawRequests = false
    var nextExchangeID: UInt64 = 1
    /// The read or write of requests being decoded.
    var requestSegment: (timestamp: UInt64, tid: Int32) = (0, 0)

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
            requestSegment = (segment.timestamp, segment.tid)
            if !sawRequests, requests.untyped, let first = segment.bytes.first, first != 0 {
                // Met mid-stream (detected on a Query or Parse): typed messages from here.
                requests.untyped = false
                phase = .session
            }
            sawRequests = true
            requests.begin(segment.bytes, gap: segment.gap, timestamp: segment.timestamp, tid: segment.tid)
            while phase != .stopped, let event = requests.next() {
                handleRequest(event, &output)
            }
        case .responses:
            var bytes = segment.bytes
            if phase == .awaitingEncryptionAnswer, let answer = bytes.first {
                switch answer {
                case UInt8(ascii: "N"):
                    phase = .startup
                    bytes = bytes.dropFirst()
                case UInt8(ascii: "S"), UInt8(ascii: "G"):
                    phase = .stopped
                    output.append(.opaque(reason: "encrypted_session"))
                    return
                default:
                    // Servers older than the request answer with an error message instead.
                    phase = .startup
                }
            }
            responses.begin(bytes, gap: segment.gap, timestamp: segment.timestamp, tid: segment.tid)
            while phase != .stopped, let event = responses.next() {
                handleResponse(event, timestamp: segment.timestamp, &output)
            }
            lastResponseTimestamp = segment.timestamp
        }
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        for unit in units.drain() where unit.kind == .query || unit.kind == .execute {
            output.append(.operation(unit.call.operation(system: .postgresql, namespace: namespace, end: timestamp, abandoned: reason)))
        }
        phase = .stopped
    }

    func operation(_ call: DatabaseCall, end: UInt64) -> ProtocolOutput {
        .operation(call.operation(system: .postgresql, namespace: namespace, end: end))
    }

    /// A statement or portal name as a cache key.
    static func key(_ name: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }

    /// The NUL-terminated string at `index` and the index after its NUL, or nil when the
    /// body ends first.
    static func cString(_ body: ArraySlice<UInt8>, at index: Int) -> (ArraySlice<UInt8>, next: Int)? {
        guard index >= body.startIndex, index <= body.endIndex,
              let nul = body[index...].firstIndex(of: 0) else { return nil }
        return (body[index..<nul], nul + 1)
    }
}
