/// An incremental HTTP/1.x decoder for one direction of one connection: requests
/// (the stream a server reads) or responses (the stream a server writes).
///
/// Feed it the captured bytes of each read or write with `decode(_:)` and the bytes the
/// capture missed with `skip(_:)`; it returns what it found as values. A gap inside a body
/// of known length is only counted. A gap anywhere else loses sync: the decoder keeps
/// what it had (a head cut short is still reported) and waits for an input that starts
/// a new message. Memory is bounded by `maxHeadSize`; no input makes it trap.
public struct HTTP1Decoder: Sendable {
    public enum Kind: Sendable, Equatable {
        case request
        case response
    }

    /// The largest head accepted; a longer one is a decode error.
    public static let maxHeadSize = 16 * 1024
    static let maxChunkLineSize = 4 * 1024
    static let maxTrailerSize = 16 * 1024

    enum State: Sendable, Equatable {
        case idle
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd(sawCR: Bool)
        case trailers(size: Int)
        case untilClose
        case lostSync
        case opaque
    }

    public let kind: Kind
    /// For a response decoder: the methods of requests still awaiting a response, oldest
    /// first. Each final response head takes one (a `HEAD` response has no body, a
    /// successful `CONNECT` ends HTTP on the connection), through its event sink: a list of
    /// events takes it from here, `HTTP1ProtocolDecoder` from the exchanges it pairs.
    public var pendingRequestMethods: [HTTP1Method] = []

    var state: State = .idle
    var headBuffer: [UInt8] = []
    var lineBuffer: [UInt8] = []
    var bodySize = 0
    /// Whether a message began and has not ended (also while out of sync).
    var messageInProgress = false
    /// The body size of a message out of sync when it is known all the same: the
    /// `Content-Length` of a head cut short, or what a chunked body had when a gap took its
    /// trailers.
    var lostBodySizeHint: Int?
    /// A gap crossed the chunk framing of this message's body and the kernel's walk did not
    /// account for it: its size is unknown, never counted with its framing.
    var bodySizeUnknown = false
    /// Progress through the start line of the head being read.
    var startLinePrefixChecked = false
    var startLineChecked = false
    /// Set when the input being decoded switched protocols, until the rest of it is kept.
    var switchedInThisInput = false
    /// After `.upgraded`: the bytes of the same input that followed the message, which
    /// belong to the protocol switched to.
    public private(set) var bytesAfterUpgrade: ArraySlice<UInt8> = []

    public init(kind: Kind) {
        self.kind = kind
    }

    /// True after an error or an upgrade: the stream is no longer HTTP.
    public var isOpaque: Bool { state == .opaque }

    /// True while a message is in progress whose end its own bytes will not show: its body
    /// runs until close, or sync was lost.
    public var isInUnframedMessage: Bool {
        messageInProgress && (state == .untilClose || state == .lostSync)
    }

    /// Decodes the captured bytes of one read or write.
    public mutating func decode(_ bytes: [UInt8]) -> [HTTP1DecoderEvent] {
        decode(bytes[...])
    }

    /// Decodes the captured bytes of one read or write.
    public mutating func decode(_ bytes: ArraySlice<UInt8>) -> [HTTP1DecoderEvent] {
        var events: [HTTP1DecoderEvent] = []
        decode(bytes, into: &events)
        return events
    }

    /// Decodes the captured bytes of one read or write, appending what it found to `events`.
    public mutating func decode(_ bytes: ArraySlice<UInt8>, into events: inout [HTTP1DecoderEvent]) {
        decode(bytes, sink: &events)
    }

    /// Decodes the captured bytes of one read or write, handing what it finds to `events` as
    /// it finds it.
    mutating func decode(_ bytes: ArraySlice<UInt8>, sink events: inout some HTTP1DecoderEventSink) {
        guard !bytes.isEmpty else { return }
        // Emptied only when it holds bytes: storing an empty slice releases the one it replaces.
        if state != .opaque, !bytesAfterUpgrade.isEmpty { bytesAfterUpgrade = [] }
        if state == .lostSync {
            guard startsMessage(bytes) else {
                if messageInProgress { bodySize += bytes.count }
                return
            }
            events.decoded(.resynchronized(previousMessageEnded: messageInProgress, previousBodySize: messageInProgress ? lostBodySize : nil))
            messageInProgress = false
            state = .idle
        }
        var index = bytes.startIndex
        defer { switchedInThisInput = false }
        while index < bytes.endIndex {
            switch state {
            case .opaque:
                if switchedInThisInput { bytesAfterUpgrade = bytes[index...] }
                return
            case .lostSync:
                return
            case .idle:
                let byte = bytes[index]
                if byte == HTTP1Syntax.cr || byte == HTTP1Syntax.lf {
                    index += 1  // empty lines between messages are ignored
                } else {
                    beginMessage(&events)
                }
            case .head:
                index = consumeWholeHead(bytes, from: index, &events) ?? consumeHead(bytes, from: index, &events)
            case .body(let remaining):
                let count = min(remaining, bytes.endIndex - index)
                index += count
                bodySize += count
                if count == remaining { endMessage(&events) } else { state = .body(remaining: remaining - count) }
            case .chunkSize:
                index = consumeChunkSizeLine(bytes, from: index, &events)
            case .chunkData(let remaining):
                let count = min(remaining, bytes.endIndex - index)
                index += count
                bodySize += count
                state = count == remaining ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - count)
            case .chunkDataEnd(let sawCR):
                let byte = bytes[index]
                index += 1
                if byte == HTTP1Syntax.cr, !sawCR {
                    state = .chunkDataEnd(sawCR: true)
                } else if byte == HTTP1Syntax.lf {
                    state = .chunkSize
                } else {
                    fail(&events, HTTP1DecodeError(.invalidChunk, "chunk data not followed by CRLF"))
                }
            case .trailers(let size):
                index = consumeTrailers(bytes, from: index, size: size, &events)
            case .untilClose:
                bodySize += bytes.endIndex - index
                index = bytes.endIndex
            }
        }
    }

    /// Accounts for `count` bytes the syscall moved that the capture did not keep.
    public mutating func skip(_ count: Int) -> [HTTP1DecoderEvent] {
        var events: [HTTP1DecoderEvent] = []
        skip(count, sink: &events)
        return events
    }

    /// Accounts for `count` uncaptured bytes, handing what that shows to `events`.
    mutating func skip(_ count: Int, sink events: inout some HTTP1DecoderEventSink) {
        guard count > 0 else { return }
        switch state {
        case .opaque:
            break
        case .lostSync:
            if messageInProgress { bodySize += count }
        case .untilClose:
            bodySize += count
        case .idle:
            loseSync(&events, messageInProgress: false)
        case .head:
            if case .success(let head) = HTTP1HeadParser.parse(headBuffer[...], kind: kind, complete: false) {
                headBuffer.withUnsafeBufferPointer { events.decodedHead(head, in: $0) }
                lostBodySizeHint = head.contentLength
                if head.isChunked { bodySizeUnknown = true }  // its framing will go by unseen
                if kind == .response, let code = head.statusCode, code >= 200 {
                    _ = events.answeredRequestMethod(waiting: &pendingRequestMethods)
                }
            }
            loseSync(&events, messageInProgress: true)
        case .body(let remaining):
            bodySize += min(count, remaining)
            if count < remaining {
                state = .body(remaining: remaining - count)
            } else {
                endMessage(&events)
                if count > remaining { loseSync(&events, messageInProgress: false) }
            }
        case .chunkData(let remaining):
            bodySize += count
            if count < remaining {
                state = .chunkData(remaining: remaining - count)
            } else if count == remaining {
                state = .chunkDataEnd(sawCR: false)
            } else {
                bodySizeUnknown = true  // chunk framing among the bytes not captured
                loseSync(&events, messageInProgress: true)
            }
        case .chunkSize, .chunkDataEnd:
            bodySizeUnknown = true
            loseSync(&events, messageInProgress: true)
        case .trailers:
            lostBodySizeHint = bodySize  // the last chunk came: only trailers were lost
            loseSync(&events, messageInProgress: true)
        }
    }

    /// The stream ended (the connection closed). A body read until close, or a message
    /// out of sync, ends here; any other message in progress stays incomplete.
    public mutating func finish() -> [HTTP1DecoderEvent] {
        defer { state = .opaque }
        if isInUnframedMessage {
            messageInProgress = false
            return [.messageEnd(bodySize: lostBodySize)]
        }
        return []
    }

    /// Ends a message whose end its own bytes will not show (see `isInUnframedMessage`)
    /// because the other direction shows the exchange is over. Returns its body size (nil
    /// when unknown), or nil when there was no such message: check `isInUnframedMessage`
    /// first to tell them apart. The decoder then waits for an input that starts a new message.
    public mutating func endUnframedMessage() -> Int? {
        guard isInUnframedMessage else { return nil }
        messageInProgress = false
        state = .lostSync
        return lostBodySize
    }

    /// The body size of the message in progress so far; nil when a gap made it unknown.
    public var currentBodySize: Int? { state == .lostSync ? lostBodySize : (bodySizeUnknown ? nil : bodySize) }

    private var lostBodySize: Int? {
        if state == .lostSync, let lostBodySizeHint { return lostBodySizeHint }
        return bodySizeUnknown ? nil : bodySize
    }

    private func startsMessage(_ bytes: ArraySlice<UInt8>) -> Bool {
        switch HTTP1MessageStart(classifying: bytes) {
        case .request: kind == .request
        case .response: kind == .response
        case .notHTTP, .undecided: false
        }
    }

    private mutating func beginMessage(_ events: inout some HTTP1DecoderEventSink) {
        state = .head
        // Emptied only when it holds bytes: emptying an empty one still releases its storage.
        if !headBuffer.isEmpty { headBuffer.removeAll(keepingCapacity: true) }
        startLinePrefixChecked = false
        startLineChecked = false
        bodySize = 0
        lostBodySizeHint = nil
        bodySizeUnknown = false
        messageInProgress = true
        events.decoded(.messageBegin)
    }

    mutating func endMessage(_ events: inout some HTTP1DecoderEventSink) {
        events.decoded(.messageEnd(bodySize: bodySizeUnknown ? nil : bodySize))
        messageInProgress = false
        state = .idle
    }

    mutating func fail(_ events: inout some HTTP1DecoderEventSink, _ error: HTTP1DecodeError) {
        events.decoded(.error(error))
        messageInProgress = false
        state = .opaque
        headBuffer = []
        lineBuffer = []
    }

    mutating func loseSync(_ events: inout some HTTP1DecoderEventSink, messageInProgress: Bool) {
        events.decoded(.lostSync)
        self.messageInProgress = messageInProgress
        state = .lostSync
        headBuffer = []
        lineBuffer = []
    }
}
