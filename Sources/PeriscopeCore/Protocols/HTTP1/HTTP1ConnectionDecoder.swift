/// Decodes both directions of one HTTP/1.x connection and pairs requests with their
/// responses, in order (pipelining included), timing each exchange by the reads and
/// writes that carried its bytes.
///
/// The caller says which stream the bytes belong to: on a server connection requests are
/// what the process reads, on a client connection what it writes.
public struct HTTP1ConnectionDecoder: Sendable {
    public enum Stream: Sendable, Equatable {
        case requests
        case responses
    }

    /// Requests awaiting a response beyond this are abandoned, oldest first.
    public static let maxPendingExchanges = 256

    struct PendingExchange: Sendable {
        var id: Int
        var start: UInt64
        var tid: Int32
        var request: HTTP1MessageHead?
        var requestBodySize = 0
        var response: HTTP1MessageHead?
        var responseStarted = false
        var lastResponseTimestamp: UInt64
    }

    var requests = HTTP1Decoder(kind: .request)
    var responses = HTTP1Decoder(kind: .response)
    var pending: [PendingExchange] = []
    var nextID = 0
    /// The exchange whose request bytes are being read.
    var currentRequestID: Int?
    /// The response in progress answers no known request.
    var orphanResponse = false
    /// The response in progress is an interim (1xx) one.
    var interimResponse = false
    /// The protocol a `101 Switching Protocols` response switched to.
    var switchedTo: String?
    /// True once the connection stopped being HTTP (error or upgrade).
    public private(set) var isOpaque = false

    /// Reused for each read's decoder events.
    var scratch: [HTTP1DecoderEvent] = []

    public init() {}

    /// True while some request awaits its response.
    public var hasPendingExchanges: Bool { !pending.isEmpty }

    /// Decodes the captured bytes of one read or write and the `gap` bytes it moved beyond
    /// them, of which the last are `tail` when the capture kept them; `chunkWalk`: the
    /// kernel's walk of the chunk headers among them.
    public mutating func receive(
        _ stream: Stream, bytes: ArraySlice<UInt8>, gap: Int = 0, tail: ArraySlice<UInt8> = [], chunkWalk: ChunkWalk? = nil,
        timestamp: UInt64, tid: Int32
    ) -> [HTTP1ConnectionEvent] {
        var output: [HTTP1ConnectionEvent] = []
        receive(stream, bytes: bytes, gap: gap, tail: tail, chunkWalk: chunkWalk, timestamp: timestamp, tid: tid, into: &output)
        return output
    }

    /// The same, appending what it found to `output`.
    public mutating func receive(
        _ stream: Stream, bytes: ArraySlice<UInt8>, gap: Int = 0, tail: ArraySlice<UInt8> = [], chunkWalk: ChunkWalk? = nil,
        timestamp: UInt64, tid: Int32, into output: inout [HTTP1ConnectionEvent]
    ) {
        // The uncaptured bytes are skipped by count up to the tail, which is read: framing at
        // the end of a long write (a chunk's CRLF, the last chunk) keeps a chunked body's size
        // exact whatever the capture size. Chunk boundaries among them are the kernel's walk's.
        let tail = tail.suffix(max(0, gap))
        let skipped = gap - tail.count
        guard !isOpaque else { return }
        var events: [HTTP1DecoderEvent] = []
        swap(&events, &scratch)
        defer {
            events.removeAll(keepingCapacity: true)
            swap(&events, &scratch)
        }
        switch stream {
        case .requests:
            guard !requests.isOpaque else { return }
            requests.decode(bytes, into: &events)
            if let chunkWalk, gap > 0, requests.skip(gap, after: bytes.count, tail: tail, walk: chunkWalk, into: &events) {
                // counted by the walk
            } else {
                if skipped > 0 { events += requests.skip(skipped) }
                requests.decode(tail, into: &events)
            }
            for event in events { handleRequest(event, timestamp: timestamp, tid: tid, &output) }
        case .responses:
            responses.pendingRequestMethods.removeAll(keepingCapacity: true)
            // By index: an exchange holds two heads, not copied to read one method.
            for index in pending.indices where pending[index].response == nil {
                responses.pendingRequestMethods.append(pending[index].request?.method ?? "")
            }
            responses.decode(bytes, into: &events)
            if let chunkWalk, gap > 0, responses.skip(gap, after: bytes.count, tail: tail, walk: chunkWalk, into: &events) {
                // counted by the walk
            } else {
                if skipped > 0 { events += responses.skip(skipped) }
                responses.decode(tail, into: &events)
            }
            for event in events { handleResponse(event, timestamp: timestamp, &output) }
            if !pending.isEmpty, pending[0].responseStarted { pending[0].lastResponseTimestamp = timestamp }
        }
        if requests.isOpaque, pending.isEmpty { isOpaque = true }
    }

    /// The connection closed (or tracking stopped) at `timestamp`. A response read until
    /// close or out of sync ends with its last byte; every other request still waiting is
    /// reported as abandoned with `reason`.
    public mutating func finish(at timestamp: UInt64, reason: String) -> [HTTP1ConnectionEvent] {
        var output: [HTTP1ConnectionEvent] = []
        if !isOpaque {
            for case .messageEnd(let size) in responses.finish() where !orphanResponse && !interimResponse {
                if let last = pending.first?.lastResponseTimestamp { completeFront(bodySize: size, end: last, &output) }
            }
            for case .messageEnd(let size) in requests.finish() { setRequestBodySize(size) }
        }
        while !pending.isEmpty { abandonFront(reason: reason, end: timestamp, &output) }
        isOpaque = true
        return output
    }

    private mutating func handleRequest(
        _ event: HTTP1DecoderEvent, timestamp: UInt64, tid: Int32, _ output: inout [HTTP1ConnectionEvent]
    ) {
        switch event {
        case .messageBegin:
            // A new request shows that a response without framing is over.
            if let size = responses.endUnframedMessage(), !orphanResponse, let last = pending.first?.lastResponseTimestamp {
                completeFront(bodySize: size, end: last, &output)
            }
            orphanResponse = false
            if pending.count >= Self.maxPendingExchanges {
                abandonFront(reason: "too many requests awaiting a response", end: timestamp, &output)
            }
            pending.append(PendingExchange(id: nextID, start: timestamp, tid: tid, lastResponseTimestamp: timestamp))
            currentRequestID = nextID
            nextID += 1
        case .head(let head):
            if let index = currentRequestIndex {
                pending[index].request = head
                output.append(.requestStarted(id: pending[index].id, head: head, timestamp: pending[index].start, tid: pending[index].tid))
            }
        case .messageEnd(let size):
            setRequestBodySize(size)
            currentRequestID = nil
        case .resynchronized(let previousSize):
            if let previousSize { setRequestBodySize(previousSize) }
            currentRequestID = nil
        case .lostSync:
            output.append(.lostSync)
        case .upgraded:
            break
        case .error(let error):
            output.append(.decodeError(error))
        }
    }

    private mutating func handleResponse(_ event: HTTP1DecoderEvent, timestamp: UInt64, _ output: inout [HTTP1ConnectionEvent]) {
        switch event {
        case .resynchronized(let previousSize):
            if let previousSize, !orphanResponse, !interimResponse, let last = pending.first?.lastResponseTimestamp {
                completeFront(bodySize: previousSize, end: last, &output)
            }
            orphanResponse = false
            interimResponse = false
        case .messageBegin:
            if pending.isEmpty {
                orphanResponse = true
            } else if !pending[0].responseStarted {
                pending[0].responseStarted = true
                pending[0].lastResponseTimestamp = timestamp
            }
        case .head(let head):
            guard !orphanResponse, !pending.isEmpty else { return }
            if let status = head.statusCode, status < 200, status != 101 {
                interimResponse = true
            } else {
                pending[0].response = head
                if head.statusCode == 101 {
                    let named = (head.upgrade ?? pending[0].request?.upgrade)?.split(separator: ",").first
                    switchedTo = named.map { String($0.trimmingASCIIWhitespace()).lowercased() }
                }
            }
        case .messageEnd(let size):
            if orphanResponse {
                orphanResponse = false
            } else if interimResponse {
                interimResponse = false
            } else if !pending.isEmpty, pending[0].response?.statusCode != 101 {
                completeFront(bodySize: size, end: timestamp, &output)
            }
        case .lostSync:
            output.append(.lostSync)
        case .upgraded:
            // A `101`'s exchange is held back with the switch (the new protocol may answer its
            // request); a `CONNECT`'s ended with its head.
            var switched: HTTP1Exchange?
            if !orphanResponse, !pending.isEmpty, pending[0].response?.statusCode == 101 {
                switched = removeFront(responseBodySize: 0, end: timestamp, incompleteReason: nil)
            }
            output.append(.upgraded(
                protocolName: switchedTo, timestamp: timestamp, switching: switched, remainder: responses.bytesAfterUpgrade
            ))
            pending.removeAll()
            isOpaque = true
        case .error(let error):
            output.append(.decodeError(error))
            while !pending.isEmpty { abandonFront(reason: "response could not be decoded", end: timestamp, &output) }
            isOpaque = true
        }
    }

    private var currentRequestIndex: Int? {
        guard let id = currentRequestID else { return nil }
        return pending.firstIndex { $0.id == id }
    }

    private mutating func setRequestBodySize(_ size: Int) {
        if let index = currentRequestIndex { pending[index].requestBodySize = size }
    }

    private mutating func completeFront(bodySize: Int, end: UInt64, _ output: inout [HTTP1ConnectionEvent]) {
        if let exchange = removeFront(responseBodySize: bodySize, end: end, incompleteReason: nil) {
            output.append(.exchange(exchange))
        }
    }

    private mutating func abandonFront(reason: String, end: UInt64, _ output: inout [HTTP1ConnectionEvent]) {
        let responseBodySize = pending[0].response == nil ? 0 : responses.bodySize
        if let exchange = removeFront(responseBodySize: responseBodySize, end: end, incompleteReason: reason) {
            output.append(.exchange(exchange))
        }
    }

    /// The oldest exchange, removed; nil when its request head was never captured.
    private mutating func removeFront(responseBodySize: Int, end: UInt64, incompleteReason: String?) -> HTTP1Exchange? {
        let front = pending.removeFirst()
        guard let request = front.request else { return nil }
        let requestBodySize = front.id == currentRequestID ? requests.bodySize : front.requestBodySize
        return HTTP1Exchange(
            id: front.id, request: request, response: front.response, requestBodySize: requestBodySize,
            responseBodySize: responseBodySize, startTimestamp: front.start, endTimestamp: max(end, front.start), tid: front.tid,
            incompleteReason: incompleteReason
        )
    }
}
