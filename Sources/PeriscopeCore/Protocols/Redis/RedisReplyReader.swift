/// Reads what a Redis server sends, RESP2 and RESP3: simple strings, errors, integers, bulk
/// strings, arrays, nulls, booleans, doubles, big numbers, blob errors, verbatim strings,
/// maps, sets, attributes (which precede a reply without being one), pushes, and streamed
/// strings and aggregates. Hands out one summary per top-level reply: its type, its error,
/// and of an aggregate the first element's text, the third element's integer and which
/// elements are errors — what pub/sub and transactions need. Nesting is bounded.
/// Used as an iterator: `begin` with a read's bytes, then `next` until nil.
struct RedisReplyReader: Sendable {
    struct Reply: Sendable {
        /// The type byte of the top-level value (`+`, `-`, `*`, `>`, …).
        var type: UInt8 = 0
        /// The error's text (`-` or `!` at the top), bounded.
        var error: [UInt8] = []
        var isError = false
        var isNull = false
        /// An aggregate's first element when a string, or a simple string: its first bytes.
        var firstElement: [UInt8] = []
        /// An aggregate's third element, when an integer.
        var thirdInteger: Int?
        /// An aggregate's elements that are errors: index and text.
        var elementErrors: [(index: Int, text: [UInt8])] = []
        var elementCount = 0
    }

    enum Event {
        case reply(Reply, end: UInt64)
        case lostSync
        case invalid(reason: String)
    }

    private struct Frame {
        /// Values still to read; -1 for a streamed aggregate ended by `.`.
        var remaining: Int
        var isAttribute: Bool
    }

    private enum State: Equatable {
        case type
        case line(type: UInt8)
        /// A bulk payload and its CRLF.
        case bulk(remaining: Int, type: UInt8)
        /// Chunks of a streamed string (`;length`).
        case chunkType
        case lost
        case failed
    }

    static let maxDepth = 32
    static let maxElementErrors = 1024
    static let maxBulkLength = 512 * 1024 * 1024

    private var state = State.type
    private var stack: [Frame] = []
    private var reply = Reply()
    private var line: [UInt8] = []
    private var input: ArraySlice<UInt8> = []
    private var gap = 0
    private var timestamp: UInt64 = 0
    private var inStreamedString = false
    /// Index of the top aggregate's element being read.
    private var elementIndex = 0

    var isLost: Bool { state == .lost }

    mutating func begin(_ bytes: ArraySlice<UInt8>, gap: Int, timestamp: UInt64) {
        input = bytes
        self.gap = max(0, gap)
        self.timestamp = timestamp
        if state == .lost {
            input = []
            self.gap = 0
        }
    }

    /// The next read starts at a reply.
    mutating func resynchronize() {
        guard state == .lost else { return }
        state = .type
        stack.removeAll(keepingCapacity: true)
        reply = Reply()
        line.removeAll(keepingCapacity: true)
        inStreamedString = false
        elementIndex = 0
    }

    mutating func next() -> Event? {
        while true {
            switch state {
            case .lost, .failed:
                return nil
            case .bulk(let remaining, let type):
                let available = min(remaining, input.count)
                if type == UInt8(ascii: "!") || isCapturedString {
                    let payload = input.prefix(min(available, max(0, remaining - 2)))
                    capture(payload, type: type)
                }
                input = input.dropFirst(available)
                var left = remaining - available
                if left > 0, input.isEmpty, gap > 0 {
                    let skipped = min(left, gap)
                    gap -= skipped
                    left -= skipped
                }
                if left > 0 {
                    state = .bulk(remaining: left, type: type)
                    return lostIfGap()
                }
                if inStreamedString {
                    state = .chunkType
                    continue
                }
                state = .type
                if let event = valueCompleted(isError: type == UInt8(ascii: "!")) { return event }
            case .type, .chunkType:
                guard let byte = input.first else { return lostIfGap() }
                input = input.dropFirst()
                if state == .chunkType {
                    guard byte == UInt8(ascii: ";") else { return fail("invalid_reply") }
                    state = .line(type: byte)
                    continue
                }
                guard Self.isType(byte) else { return fail("invalid_reply") }
                if stack.isEmpty { reply = Reply(type: byte) }
                state = .line(type: byte)
            case .line(let type):
                guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else {
                    line.append(contentsOf: input.prefix(max(0, 256 - line.count)))
                    input = []
                    if let event = lostIfGap() { return event }
                    return nil
                }
                line.append(contentsOf: input[..<newline].prefix(max(0, 256 - line.count)))
                input = input[(newline + 1)...]
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                let event = lineRead(type: type)
                line.removeAll(keepingCapacity: true)
                if let event { return event }
            }
        }
    }

    /// A string at the top aggregate's first position, kept to tell pub/sub messages.
    private var isCapturedString: Bool { stack.count == 1 && elementIndex == 0 && !stack[0].isAttribute }

    private mutating func capture(_ bytes: some Collection<UInt8>, type: UInt8) {
        if type == UInt8(ascii: "!") || type == UInt8(ascii: "-") {
            if stack.isEmpty {
                reply.error.append(contentsOf: bytes.prefix(max(0, 256 - reply.error.count)))
            } else if stack.count == 1, !stack[0].isAttribute {
                errorText.append(contentsOf: bytes.prefix(max(0, 256 - errorText.count)))
            }
        } else if isCapturedString || (stack.isEmpty && type == UInt8(ascii: "+")) {
            reply.firstElement.append(contentsOf: bytes.prefix(max(0, 32 - reply.firstElement.count)))
        }
    }

    private var errorText: [UInt8] = []

    private mutating func lineRead(type: UInt8) -> Event? {
        let text = line[...]
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            capture(text, type: type)
            return valueCompleted(isError: type == UInt8(ascii: "-"))
        case UInt8(ascii: ":"):
            if stack.count == 1, elementIndex == 2, !stack[0].isAttribute { reply.thirdInteger = RedisSyntax.integer(text) }
            return valueCompleted(isError: false)
        case UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("):
            if stack.isEmpty, type == UInt8(ascii: "_") { reply.isNull = true }
            return valueCompleted(isError: false)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            if type == UInt8(ascii: "$"), text.elementsEqual("?".utf8) {
                inStreamedString = true
                state = .chunkType
                return nil
            }
            guard let length = RedisSyntax.integer(text), length >= -1, length <= Self.maxBulkLength else { return fail("invalid_reply") }
            if length == -1 {
                if stack.isEmpty { reply.isNull = true }
                return valueCompleted(isError: false)
            }
            state = .bulk(remaining: length + 2, type: type)
            return nil
        case UInt8(ascii: ";"):
            guard let length = RedisSyntax.integer(text), length >= 0, length <= Self.maxBulkLength else { return fail("invalid_reply") }
            if length == 0 {
                inStreamedString = false
                state = .type
                return valueCompleted(isError: false)
            }
            state = .bulk(remaining: length + 2, type: UInt8(ascii: "$"))
            return nil
        case UInt8(ascii: "."):
            // End of a streamed aggregate.
            guard let frame = stack.last, frame.remaining == -1 else { return fail("invalid_reply") }
            stack.removeLast()
            return aggregateCompleted(frame)
        default:
            // Aggregates: *, %, ~, >, |.
            let streamed = text.elementsEqual("?".utf8)
            guard let count = streamed ? -1 : RedisSyntax.integer(text), count >= -1, count <= Int(Int32.max) else {
                return fail("invalid_reply")
            }
            if count == -1, !streamed {
                if stack.isEmpty { reply.isNull = true }
                return valueCompleted(isError: false)
            }
            let pairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            guard stack.count < Self.maxDepth else { return fail("nesting_too_deep") }
            if stack.isEmpty { elementIndex = 0 }
            if stack.isEmpty, !streamed { reply.elementCount = pairs ? count * 2 : count }
            let frame = Frame(remaining: streamed ? -1 : (pairs ? count * 2 : count), isAttribute: type == UInt8(ascii: "|"))
            if frame.remaining == 0 { return aggregateCompleted(frame) }
            stack.append(frame)
            state = .type
            return nil
        }
    }

    /// An aggregate ended: it is a value of its parent, unless it was an attribute.
    private mutating func aggregateCompleted(_ frame: Frame) -> Event? {
        state = .type
        if frame.isAttribute {
            if stack.isEmpty { reply = Reply() }
            return nil
        }
        return valueCompleted(isError: false)
    }

    /// A value ended: counts it in its aggregate, and ends the aggregates it filled.
    private mutating func valueCompleted(isError: Bool) -> Event? {
        state = .type
        guard !stack.isEmpty else {
            reply.isError = isError
            let done = reply
            reply = Reply()
            return .reply(done, end: timestamp)
        }
        if stack.count == 1, !stack[0].isAttribute {
            if isError, reply.elementErrors.count < Self.maxElementErrors {
                reply.elementErrors.append((elementIndex, errorText))
            }
            errorText.removeAll(keepingCapacity: true)
            elementIndex += 1
        }
        if stack[stack.count - 1].remaining > 0 {
            stack[stack.count - 1].remaining -= 1
            if stack[stack.count - 1].remaining == 0 {
                let frame = stack.removeLast()
                return aggregateCompleted(frame)
            }
        }
        return nil
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

    static func isType(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "!"),
             UInt8(ascii: "="), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"),
             UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
