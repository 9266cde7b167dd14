/// Frames one direction of a PostgreSQL connection into messages: a type byte (none for the
/// startup-phase messages) and a big-endian length that counts itself. A message that lies
/// whole in one read is handed out in place; one that spans reads is gathered in a buffer
/// holding at most the prefix its type needs, the rest skipped by length, uncaptured bytes
/// included. Used as an iterator: `begin` with a read's bytes, then `next` until nil.
struct PostgreSQLMessageReader: Sendable {
    struct Message {
        /// The type byte; 0 for an untyped startup-phase message.
        var type: UInt8
        /// The body, or the prefix of it kept when it spanned reads (`length` says how
        /// long it was).
        var body: ArraySlice<UInt8>
        var length: Int
        /// The read or write that moved the message's first byte.
        var start: UInt64
        var tid: Int32
    }

    enum Event {
        case message(Message)
        /// Bytes were not captured beyond the message in progress: the next message's
        /// start is unknown until a later read starts with a valid one.
        case lostSync
        /// Not PostgreSQL: an unknown message type or an impossible length. Nothing more
        /// is read.
        case invalid(reason: String)
    }

    enum State: Equatable {
        case synchronized
        case lost
        case failed
    }

    /// Longest message length accepted (the server's own limit is 1 GiB).
    static let maxMessageLength = 1 << 30
    /// Longest startup-phase message accepted (the server allows 10000 bytes).
    static let maxStartupLength = 10_000

    /// True for what the client sends, false for what the server sends.
    let frontend: Bool
    /// The next message has no type byte (before the startup message).
    var untyped: Bool
    private(set) var state = State.synchronized

    private var input: ArraySlice<UInt8> = []
    private var gap = 0
    private var timestamp: UInt64 = 0
    private var tid: Int32 = 0
    /// A header split across reads: its bytes so far and where it started.
    private var header: (bytes: UInt64, count: Int, start: UInt64, tid: Int32) = (0, 0, 0, 0)
    /// A body spanning reads.
    private var partial: (type: UInt8, length: Int, remaining: Int, keep: Int, start: UInt64, tid: Int32)?
    private var buffer: [UInt8] = []

    init(frontend: Bool) {
        self.frontend = frontend
        untyped = frontend
    }

    /// Starts reading the bytes of one read or write and the `gap` bytes it moved beyond them.
    mutating func begin(_ bytes: ArraySlice<UInt8>, gap: Int, timestamp: UInt64, tid: Int32) {
        input = bytes
        self.gap = max(0, gap)
        self.timestamp = timestamp
        self.tid = tid
        if state == .lost {
            if Self.startsWithMessages(bytes, frontend: frontend) {
                state = .synchronized
            } else {
                input = []
                self.gap = 0
            }
        }
    }

    mutating func next() -> Event? {
        while state == .synchronized {
            if var body = partial {
                let available = min(body.remaining, input.count)
                let kept = min(available, max(0, body.keep - buffer.count))
                buffer.append(contentsOf: input.prefix(kept))
                input = input.dropFirst(available)
                body.remaining -= available
                if body.remaining > 0, input.isEmpty, gap > 0 {
                    let skipped = min(gap, body.remaining)
                    gap -= skipped
                    body.remaining -= skipped
                }
                if body.remaining == 0 {
                    partial = nil
                    return .message(Message(type: body.type, body: buffer[...], length: body.length, start: body.start, tid: body.tid))
                }
                partial = body
                return nil
            }
            guard !input.isEmpty else {
                if gap > 0 {
                    // Uncaptured bytes where a message header should be.
                    gap = 0
                    header.count = 0
                    state = .lost
                    return .lostSync
                }
                return nil
            }
            let headerSize = untyped ? 4 : 5
            if header.count == 0 {
                header.start = timestamp
                header.tid = tid
            }
            while header.count < headerSize, let byte = input.first {
                header.bytes = header.bytes << 8 | UInt64(byte)
                header.count += 1
                input = input.dropFirst()
            }
            guard header.count == headerSize else { continue }
            let type = untyped ? 0 : UInt8(truncatingIfNeeded: header.bytes >> 32)
            let length = Int(UInt32(truncatingIfNeeded: header.bytes))
            let start = header.start
            let startTID = header.tid
            header = (0, 0, 0, 0)
            if let reason = Self.invalidity(type: type, length: length, frontend: frontend) {
                state = .failed
                return .invalid(reason: reason)
            }
            let bodyLength = length - 4
            if input.count >= bodyLength {
                let body = input.prefix(bodyLength)
                input = input.dropFirst(bodyLength)
                return .message(Message(type: type, body: body, length: bodyLength, start: start, tid: startTID))
            }
            buffer.removeAll(keepingCapacity: true)
            partial = (type, bodyLength, bodyLength, Self.keptLength(type: type, frontend: frontend), start, startTID)
        }
        return nil
    }

    /// Why a header cannot be PostgreSQL's, or nil.
    static func invalidity(type: UInt8, length: Int, frontend: Bool) -> String? {
        if type == 0 {
            return length >= 8 && length <= maxStartupLength ? nil : "invalid_length"
        }
        guard PostgreSQLMessageType.isValid(type, frontend: frontend) else { return "unknown_message_type" }
        return length >= 4 && length <= maxMessageLength ? nil : "invalid_length"
    }

    /// Body bytes worth keeping when a message spans reads: the statement text of queries,
    /// names, error fields, command tags; nothing of rows, copy data or passwords.
    static func keptLength(type: UInt8, frontend: Bool) -> Int {
        if frontend {
            switch type {
            case 0: return maxStartupLength
            case PostgreSQLMessageType.query, PostgreSQLMessageType.parse: return SQLSanitizer.maxInputLength + 128
            case PostgreSQLMessageType.copyData, PostgreSQLMessageType.password: return 0
            default: return 256
            }
        }
        switch type {
        case PostgreSQLMessageType.dataRow, PostgreSQLMessageType.copyData: return 0
        case PostgreSQLMessageType.errorResponse, PostgreSQLMessageType.noticeResponse: return 2048
        default: return 256
        }
    }

    /// Whether `bytes` start with typed messages: each whole one of a known type and a
    /// possible length, the last possibly cut. Where a read that follows lost bytes may
    /// resume.
    static func startsWithMessages(_ bytes: ArraySlice<UInt8>, frontend: Bool) -> Bool {
        var index = bytes.startIndex
        var messages = 0
        while bytes.endIndex - index >= 5 {
            let type = bytes[index]
            let length = Int(bytes[index + 1]) << 24 | Int(bytes[index + 2]) << 16 | Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
            guard invalidity(type: type, length: length, frontend: frontend) == nil else { return false }
            guard PostgreSQLMessageType.hasPlausibleLength(type, length: length, frontend: frontend) else { return false }
            messages += 1
            index += 1 + length
        }
        return messages > 0
    }
}
