/// Reads the commands a Redis client sends: RESP arrays of bulk strings, or inline
/// commands (a line of words). Keeps the first arguments (or, keeping values, as many as
/// fit) in one reused buffer; the rest are skipped by length, uncaptured bytes included.
/// Used as an iterator: `begin` with a read's bytes, then `next` until nil; the command
/// `next` returns stays valid until the next call.
struct RedisCommandReader: Sendable {
    enum Event {
        case command(start: UInt64, tid: Int32)
        case lostSync
        case invalid(reason: String)
    }

    enum State: Equatable {
        case start
        case inline
        case count
        case bulkType
        case bulkLength
        case bulkData(remaining: Int)
        case lost
        case failed
    }

    /// Longest inline command and longest argument count accepted (the server's limits).
    static let maxInlineLength = 64 * 1024
    static let maxArguments = 1024 * 1024
    static let maxBulkLength = 512 * 1024 * 1024

    /// Bytes kept per argument, and in all.
    let keepPerArgument: Int
    let keepTotal: Int
    /// Arguments kept beyond the first ones.
    let keepsAllArguments: Bool

    private(set) var state = State.start
    /// The arguments of the command just read (kept prefixes) and how many it had.
    private(set) var storage: [UInt8] = []
    private(set) var arguments: [Range<Int>] = []
    private(set) var argumentCount = 0

    private var input: ArraySlice<UInt8> = []
    private var gap = 0
    private var timestamp: UInt64 = 0
    private var tid: Int32 = 0
    private var line: [UInt8] = []
    private var lineLength = 0
    private var remainingArguments = 0
    private var commandStart: (UInt64, Int32) = (0, 0)
    private var startedCommand = false
    /// The bulk string being read is one of the arguments kept.
    private var keepingArgument = false

    init(keepsAllArguments: Bool, keepTotal: Int) {
        self.keepsAllArguments = keepsAllArguments
        self.keepTotal = keepsAllArguments ? keepTotal : 1024
        keepPerArgument = keepsAllArguments ? keepTotal : 256
    }

    func argument(_ index: Int) -> ArraySlice<UInt8>? {
        index < arguments.count ? storage[arguments[index]] : nil
    }

    mutating func begin(_ bytes: ArraySlice<UInt8>, gap: Int, timestamp: UInt64, tid: Int32) {
        input = bytes
        self.gap = max(0, gap)
        self.timestamp = timestamp
        self.tid = tid
        if state == .lost {
            // A later write resumes at a command when it starts like one.
            if bytes.count >= 4, bytes.first == UInt8(ascii: "*"), RedisSyntax.isDigit(bytes[bytes.startIndex + 1]) {
                state = .start
            } else {
                input = []
                self.gap = 0
            }
        }
    }

    mutating func next() -> Event? {
        while true {
            switch state {
            case .failed, .lost:
                return nil
            case .bulkData(let remaining):
                // The payload then its CRLF, counted together.
                let available = min(remaining, input.count)
                if keepingArgument, let last = arguments.last {
                    let payload = min(available, max(0, remaining - 2))
                    let kept = min(payload, max(0, keepPerArgument - last.count), max(0, keepTotal - storage.count))
                    storage.append(contentsOf: input.prefix(kept))
                    arguments[arguments.count - 1] = last.lowerBound..<(last.upperBound + kept)
                }
                input = input.dropFirst(available)
                var left = remaining - available
                if left > 0, input.isEmpty, gap > 0 {
                    let skipped = min(left, gap)
                    gap -= skipped
                    left -= skipped
                }
                if left > 0 {
                    state = .bulkData(remaining: left)
                    return lostIfGap()
                }
                remainingArguments -= 1
                state = .bulkType
                if remainingArguments == 0 { return finishCommand() }
            default:
                guard let byte = input.first else { return lostIfGap() }
                if state == .start {
                    commandStart = (timestamp, tid)
                    startedCommand = true
                    storage.removeAll(keepingCapacity: true)
                    arguments.removeAll(keepingCapacity: true)
                    if byte == UInt8(ascii: "*") {
                        input = input.dropFirst()
                        state = .count
                    } else {
                        state = .inline
                    }
                    line.removeAll(keepingCapacity: true)
                    lineLength = 0
                    continue
                }
                if state == .bulkType {
                    input = input.dropFirst()
                    guard byte == UInt8(ascii: "$") else { return fail("invalid_command") }
                    state = .bulkLength
                    continue
                }
                guard readLine(limit: state == .inline ? 4096 : 24) else { continue }
                if let event = lineRead() { return event }
            }
        }
    }

    /// Gathers a line up to LF into `line` (its first `limit` bytes); true once complete.
    private mutating func readLine(limit: Int) -> Bool {
        guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else {
            line.append(contentsOf: input.prefix(max(0, limit - line.count)))
            lineLength += input.count
            input = []
            return false
        }
        let part = input[..<newline]
        line.append(contentsOf: part.prefix(max(0, limit - line.count)))
        lineLength += part.count
        input = input[(newline + 1)...]
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return true
    }

    private mutating func lineRead() -> Event? {
        defer {
            line.removeAll(keepingCapacity: true)
            lineLength = 0
        }
        switch state {
        case .inline:
            guard lineLength <= Self.maxInlineLength else { return fail("inline_too_long") }
            // Words separated by spaces; an empty line is no command.
            argumentCount = 0
            for word in line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true) {
                argumentCount += 1
                if arguments.count < (keepsAllArguments ? Int.max : 3), storage.count + word.count <= keepTotal {
                    let start = storage.count
                    storage.append(contentsOf: word.prefix(keepPerArgument))
                    arguments.append(start..<storage.count)
                }
            }
            state = .start
            guard !arguments.isEmpty else {
                startedCommand = false
                return nil
            }
            return finishCommand()
        case .count:
            guard let count = RedisSyntax.integer(line[...]), count <= Self.maxArguments else { return fail("invalid_command") }
            guard count > 0 else {
                state = .start
                startedCommand = false
                return nil
            }
            argumentCount = count
            remainingArguments = count
            state = .bulkType
        case .bulkLength:
            guard let length = RedisSyntax.integer(line[...]), length >= 0, length <= Self.maxBulkLength else {
                return fail("invalid_command")
            }
            let index = argumentCount - remainingArguments
            keepingArgument = (index < 3 || keepsAllArguments) && storage.count < keepTotal
            if keepingArgument { arguments.append(storage.count..<storage.count) }
            state = .bulkData(remaining: length + 2)
        default:
            break
        }
        return nil
    }

    private mutating func finishCommand() -> Event {
        state = .start
        startedCommand = false
        return .command(start: commandStart.0, tid: commandStart.1)
    }

    private mutating func lostIfGap() -> Event? {
        guard gap > 0 else { return nil }
        gap = 0
        state = .lost
        return .lostSync
    }

    private mutating func fail(_ reason: String) -> Event {
        state = .failed
        return .invalid(reason: reason)
    }
}
