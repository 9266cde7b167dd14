/// HTTP/1.x as a protocol: decodes both directions of one connection and pairs requests
/// with their responses, in order (pipelining included), timing each exchange by the reads
/// and writes that carried its bytes; each exchange becomes an operation named by its method.
///
/// On a server connection requests are what the process reads, on a client connection what
/// it writes. Each direction's `HTTP1Decoder` hands what it finds straight to the pairing
/// here (`HTTP1DecoderEventSink`), which appends `ProtocolOutput` as requests start and
/// exchanges end: no list of events between the layers.
public struct HTTP1ProtocolDecoder: ProtocolDecoder {
    /// Requests awaiting a response beyond this are abandoned, oldest first.
    public static let maxPendingExchanges = 256

    /// A request on its way through the connection, until its response ends.
    struct PendingExchange: Sendable {
        var id: Int
        var start: UInt64
        var tid: Int32
        /// Nil until its head is read (or when a capture gap took it).
        var request: HTTP1MessageHead?
        var requestDigest: UInt64 = 0
        /// Nil when a capture gap made it unknown.
        var requestBodySize: Int? = 0
        /// The final response's status code; nil until its head is read.
        var responseStatus: Int?
        var responseStarted = false
        var lastResponseTimestamp: UInt64
    }

    let keepQuery: Bool
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
    private(set) var isOpaque = false

    /// While one segment is decoded: the stream, the syscall's time and thread, what the
    /// response decoder ended with (its upgrade or error, handled once it is back in place)
    /// and the caller's output, moved in.
    private var stream = MessageStream.requests
    private var timestamp: UInt64 = 0
    private var tid: Int32 = 0
    private var responsesSwitched = false
    private var responsesFailed = false
    private var output: [ProtocolOutput] = []

    public init(configuration: ProtocolConfiguration = .init()) {
        keepQuery = configuration.keepQuery
    }

    public static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection {
        switch HTTP1MessageStart(classifying: bytes) {
        case .request: stream == .requests ? .matches : .doesNotMatch
        case .response: stream == .responses ? .matches : .doesNotMatch
        case .undecided: .needMoreBytes
        case .notHTTP: .doesNotMatch
        }
    }

    public mutating func receive(_ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        guard !isOpaque else { return }
        swap(&self.output, &output)
        defer { swap(&self.output, &output) }
        stream = segment.stream
        timestamp = segment.timestamp
        tid = segment.tid
        switch segment.stream {
        case .requests:
            guard !requests.isOpaque else { return }
            // The decoder is moved out while it calls back into `self`.
            var decoder = HTTP1Decoder(kind: .request)
            swap(&decoder, &requests)
            decode(segment, with: &decoder)
            swap(&decoder, &requests)
        case .responses:
            responses.pendingRequestMethods.removeAll(keepingCapacity: true)
            for index in pending.indices where pending[index].responseStatus == nil {
                responses.pendingRequestMethods.append(pending[index].request?.method ?? "")
            }
            var decoder = HTTP1Decoder(kind: .response)
            swap(&decoder, &responses)
            decode(segment, with: &decoder)
            swap(&decoder, &responses)
            if responsesSwitched { switchProtocols(segment) }
            if responsesFailed {
                while !pending.isEmpty { abandonFront(reason: "response could not be decoded", end: timestamp) }
                isOpaque = true
            }
            if !pending.isEmpty, pending[0].responseStarted { pending[0].lastResponseTimestamp = timestamp }
        }
        if requests.isOpaque, pending.isEmpty { isOpaque = true }
    }

    /// The captured bytes, then the `gap` bytes moved beyond them: skipped by count up to the
    /// tail, which is read (framing at the end of a long write, a chunk's CRLF or the last
    /// chunk, keeps a chunked body's size exact whatever the capture size), or walked by the
    /// kernel's walk of their chunk headers.
    private mutating func decode(_ segment: ProtocolSegment, with decoder: inout HTTP1Decoder) {
        let tail = segment.tail.suffix(max(0, segment.gap))
        let skipped = segment.gap - tail.count
        decoder.decode(segment.bytes, sink: &self)
        if let walk = segment.chunkWalk, segment.gap > 0,
           decoder.skip(segment.gap, after: segment.bytes.count, tail: tail, walk: walk, sink: &self) {
            return
        }
        if skipped > 0 { decoder.skip(skipped, sink: &self) }
        decoder.decode(tail, sink: &self)
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        swap(&self.output, &output)
        defer { swap(&self.output, &output) }
        if !isOpaque {
            // A response read until close or out of sync ends with its last byte.
            for case .messageEnd(let size) in responses.finish() where !orphanResponse && !interimResponse {
                if let last = pending.first?.lastResponseTimestamp { completeFront(bodySize: size, end: last) }
            }
            for case .messageEnd(let size) in requests.finish() { setRequestBodySize(size) }
        }
        while !pending.isEmpty { abandonFront(reason: reason, end: timestamp) }
        isOpaque = true
    }

    private mutating func handleRequest(_ event: HTTP1DecoderEvent) {
        switch event {
        case .messageBegin:
            // A new request shows that a response without framing is over.
            if responses.isInUnframedMessage {
                let size = responses.endUnframedMessage()
                if !orphanResponse, let last = pending.first?.lastResponseTimestamp { completeFront(bodySize: size, end: last) }
            }
            orphanResponse = false
            if pending.count >= Self.maxPendingExchanges {
                abandonFront(reason: "too many requests awaiting a response", end: timestamp)
            }
            pending.append(PendingExchange(id: nextID, start: timestamp, tid: tid, lastResponseTimestamp: timestamp))
            currentRequestID = nextID
            nextID += 1
        case .head(let head):
            guard let index = currentRequestIndex else { return }
            let digest = SpanLinkHints.digest(method: head.method ?? "", target: head.target ?? "")
            pending[index].request = head
            pending[index].requestDigest = digest
            output.append(.requestStarted(RequestStart(
                exchangeID: UInt64(pending[index].id), timestamp: pending[index].start, tid: pending[index].tid,
                requestDigest: digest, traceparent: head.traceparent
            )))
        case .messageEnd(let size):
            setRequestBodySize(size)
            currentRequestID = nil
        case .resynchronized(let ended, let previousSize):
            if ended { setRequestBodySize(previousSize) }
            currentRequestID = nil
        case .lostSync:
            output.append(.lostSync)
        case .upgraded:
            break
        case .error:
            output.append(.decodeError(reason: "invalid_message"))
        }
    }

    private mutating func handleResponse(_ event: HTTP1DecoderEvent) {
        switch event {
        case .resynchronized(let ended, let previousSize):
            if ended, !orphanResponse, !interimResponse, let last = pending.first?.lastResponseTimestamp {
                completeFront(bodySize: previousSize, end: last)
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
            guard !orphanResponse, !pending.isEmpty, let status = head.statusCode else { return }
            if status < 200, status != 101 {
                interimResponse = true
            } else {
                pending[0].responseStatus = status
                if status == 101 {
                    let named = (head.upgrade ?? pending[0].request?.upgrade)?.split(separator: ",").first
                    switchedTo = named.map { String($0.trimmingASCIIWhitespace()).lowercased() }
                }
            }
        case .messageEnd(let size):
            if orphanResponse {
                orphanResponse = false
            } else if interimResponse {
                interimResponse = false
            } else if !pending.isEmpty, pending[0].responseStatus != 101 {
                completeFront(bodySize: size, end: timestamp)
            }
        case .lostSync:
            output.append(.lostSync)
        case .upgraded:
            responsesSwitched = true  // reported once the bytes after the switch are known
        case .error:
            output.append(.decodeError(reason: "invalid_message"))
            responsesFailed = true  // what awaits a response is abandoned once the decoder is back
        }
    }

    /// The response decoder switched protocols in this segment: a `101`'s exchange is held
    /// back with the switch (the new protocol may answer its request); a `CONNECT`'s ended
    /// with its head.
    private mutating func switchProtocols(_ segment: ProtocolSegment) {
        responsesSwitched = false
        var upgrade = ProtocolUpgrade(protocolName: switchedTo, timestamp: timestamp)
        if !orphanResponse, !pending.isEmpty, pending[0].responseStatus == 101 {
            upgrade.operation = removeFront(responseBodySize: 0, end: timestamp, incompleteReason: nil)
        }
        let remainder = responses.bytesAfterUpgrade
        if !remainder.isEmpty {
            var rest = segment
            rest.bytes = remainder
            upgrade.remainder = rest
        }
        output.append(.upgraded(upgrade))
        pending.removeAll()
        isOpaque = true
    }

    private var currentRequestIndex: Int? {
        guard let id = currentRequestID else { return nil }
        return pending.firstIndex { $0.id == id }
    }

    private mutating func setRequestBodySize(_ size: Int?) {
        if let index = currentRequestIndex { pending[index].requestBodySize = size }
    }

    private mutating func completeFront(bodySize: Int?, end: UInt64) {
        reportFront(responseBodySize: bodySize, end: end, incompleteReason: nil)
    }

    private mutating func abandonFront(reason: String, end: UInt64) {
        let responseBodySize = pending[0].responseStatus == nil ? 0 : responses.currentBodySize
        reportFront(responseBodySize: responseBodySize, end: end, incompleteReason: reason)
    }

    /// Removes the oldest exchange and reports it as an operation, built where it is appended;
    /// nothing when its request head was never captured.
    private mutating func reportFront(responseBodySize: Int?, end: UInt64, incompleteReason: String?) {
        let front = pending.removeFirst()
        guard let request = front.request else { return }
        output.append(.operation(operation(
            for: front, request: request, requestBodySize: requestBodySize(of: front), responseBodySize: responseBodySize,
            end: max(end, front.start), incompleteReason: incompleteReason
        )))
    }

    /// The oldest exchange, removed, as an operation; nil when its request head was never captured.
    private mutating func removeFront(responseBodySize: Int?, end: UInt64, incompleteReason: String?) -> ProtocolOperation? {
        let front = pending.removeFirst()
        guard let request = front.request else { return nil }
        return operation(
            for: front, request: request, requestBodySize: requestBodySize(of: front), responseBodySize: responseBodySize,
            end: max(end, front.start), incompleteReason: incompleteReason
        )
    }

    /// The request decoder is in place whenever an exchange is removed: only the response
    /// decoder's events and a new request's start remove exchanges, and no request is being
    /// read at a start.
    private func requestBodySize(of exchange: PendingExchange) -> Int? {
        exchange.id == currentRequestID ? requests.currentBodySize : exchange.requestBodySize
    }

    /// An exchange as an operation: named by the method; an error when abandoned, on a 5xx,
    /// or, for the client, on a 4xx.
    @inline(__always)
    func operation(
        for exchange: PendingExchange, request: HTTP1MessageHead, requestBodySize: Int?, responseBodySize: Int?, end: UInt64,
        incompleteReason: String?
    ) -> ProtocolOperation {
        let method: String, target: String
        if case .request(let requestMethod, let requestTarget) = request.startLine {
            (method, target) = (requestMethod, requestTarget)
        } else {
            (method, target) = ("", "")
        }
        let statusCode = exchange.responseStatus
        let status: Span.Status = incompleteReason != nil || (statusCode ?? 0) >= 500 ? .error : .unset
        let details = HTTPDetails(
            method: method,
            path: HTTP1RequestTarget(target).path(keepingQuery: keepQuery),
            target: target,
            statusCode: statusCode,
            protocolVersion: request.version,
            requestBodySize: requestBodySize,
            responseBodySize: responseBodySize,
            host: request.host,
            userAgent: request.userAgent,
            traceparent: request.traceparent
        )
        return ProtocolOperation(
            exchangeID: UInt64(exchange.id), start: exchange.start, end: end, tid: exchange.tid,
            name: method, status: status, statusMessage: incompleteReason, http: details,
            requestDigest: exchange.requestDigest, traceparent: request.traceparent,
            clientStatus: status != .error && (statusCode ?? 0) >= 400 ? .error : nil
        )
    }
}

extension HTTP1ProtocolDecoder: HTTP1DecoderEventSink {
    mutating func decoded(_ event: HTTP1DecoderEvent) {
        switch stream {
        case .requests: handleRequest(event)
        case .responses: handleResponse(event)
        }
    }
}

extension ProtocolRegistration {
    public static let http1 = ProtocolRegistration(
        name: .http,
        label: "http1",
        detect: { HTTP1ProtocolDecoder.detect($0, stream: $1) },
        make: { HTTP1ProtocolDecoder(configuration: $0) }
    )
}
