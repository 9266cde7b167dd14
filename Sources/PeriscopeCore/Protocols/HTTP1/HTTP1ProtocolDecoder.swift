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

    let keepQuery: Bool
    /// Each direction's decoder; nil only while it decodes, moved out because it calls back
    /// into `self` (moved, not swapped with a fresh one: a fresh decoder's buffers would be
    /// made and released for every segment).
    var requests: HTTP1Decoder? = HTTP1Decoder(kind: .request)
    var responses: HTTP1Decoder? = HTTP1Decoder(kind: .response)
    var pending = PendingExchanges()
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
            guard requests?.isOpaque == false, var decoder = requests.take() else { return }
            decode(segment, with: &decoder)
            requests = consume decoder
        case .responses:
            // Each final response takes its request's method from `pending` (`answeredRequestMethod`).
            guard var decoder = responses.take() else { return }
            decode(segment, with: &decoder)
            responses = consume decoder
            if responsesSwitched { switchProtocols(segment) }
            if responsesFailed {
                while !pending.isEmpty { abandonFront(reason: "response could not be decoded", end: timestamp) }
                isOpaque = true
            }
            if !pending.isEmpty, pending[0].responseStarted { pending[0].lastResponseTimestamp = timestamp }
        }
        if requests?.isOpaque != false, pending.isEmpty { isOpaque = true }
    }

    /// The captured bytes, then the `gap` bytes moved beyond them: skipped by count up to the
    /// tail, which is read (framing at the end of a long write, a chunk's CRLF or the last
    /// chunk, keeps a chunked body's size exact whatever the capture size), or walked by the
    /// kernel's walk of their chunk headers.
    private mutating func decode(_ segment: ProtocolSegment, with decoder: inout HTTP1Decoder) {
        decoder.decode(segment.bytes, sink: &self)
        guard segment.gap > 0 else { return }  // the usual segment: all it moved was captured
        let tail = segment.tail.suffix(segment.gap)
        let skipped = segment.gap - tail.count
        if let walk = segment.chunkWalk,
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
            for case .messageEnd(let size) in responses?.finish() ?? [] where !orphanResponse && !interimResponse {
                if !pending.isEmpty { completeFront(bodySize: size, end: pending[0].lastResponseTimestamp) }
            }
            for case .messageEnd(let size) in requests?.finish() ?? [] { setRequestBodySize(size) }
        }
        while !pending.isEmpty { abandonFront(reason: reason, end: timestamp) }
        isOpaque = true
    }

    private mutating func handleRequest(_ event: HTTP1DecoderEvent) {
        switch event {
        case .messageBegin:
            // A new request shows that a response without framing is over.
            if responses?.isInUnframedMessage == true {
                let size = responses?.endUnframedMessage() ?? nil
                if !orphanResponse, !pending.isEmpty { completeFront(bodySize: size, end: pending[0].lastResponseTimestamp) }
            }
            orphanResponse = false
            if pending.count >= Self.maxPendingExchanges {
                abandonFront(reason: "too many requests awaiting a response", end: timestamp)
            }
            pending.append(id: nextID, start: timestamp, tid: tid)
            currentRequestID = nextID
            nextID += 1
        case .head:
            break  // heads come to `decodedHead`
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
            if ended, !orphanResponse, !interimResponse, !pending.isEmpty {
                completeFront(bodySize: previousSize, end: pending[0].lastResponseTimestamp)
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
        case .head:
            break  // heads come to `decodedHead`
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
        let remainder = responses?.bytesAfterUpgrade ?? []
        if !remainder.isEmpty {
            var rest = segment
            rest.bytes = remainder
            upgrade.remainder = rest
        }
        output.append(.upgraded(upgrade))
        pending.removeAll()
        isOpaque = true
    }

    /// A request head: the exchange's span details are laid out from it where it lies, once
    /// (the span keeps them as they are, with the response's figures added when it ends),
    /// and the request announces its start.
    private mutating func requestHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
        guard let index = currentRequestIndex else { return }
        let digest = Self.digest(method: bytes[field: head.methodBytes], target: bytes[field: head.target])
        let traceContext = head.traceparent.flatMap { TraceContext.parse(bytes[field: $0]) }
        let http = Self.spanDetails(of: head, in: bytes, keepingQuery: keepQuery)
        let upgradeProtocol = head.upgradeProtocol.map { bytes.string($0) }
        // One access to the stored exchange.
        let (id, start, tid) = Self.setRequest(
            &pending[index], http: http, method: head.method, upgradeProtocol: upgradeProtocol, traceContext: traceContext, digest: digest
        )
        output.append(.requestStarted(RequestStart(
            exchangeID: UInt64(id), timestamp: start, tid: tid, requestDigest: digest, traceContext: traceContext
        )))
    }

    /// Sets what a request's head says in its exchange; returns the exchange's id, start and thread.
    @inline(__always)
    private static func setRequest(
        _ exchange: inout PendingExchange, http: HTTPStorage, method: HTTP1Method, upgradeProtocol: String?,
        traceContext: TraceContext?, digest: UInt64
    ) -> (Int, UInt64, Int32) {
        exchange.http = http
        exchange.method = method
        exchange.upgradeProtocol = upgradeProtocol
        exchange.traceContext = traceContext
        exchange.requestDigest = digest
        return (exchange.id, exchange.start, exchange.tid)
    }

    /// `SpanLinkHints.digest(method:target:)` of the bytes where they lie; through strings
    /// only when they are not ASCII (the string repairs invalid UTF-8).
    static func digest(method: UnsafeBufferPointer<UInt8>, target: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard method.allSatisfy({ $0 < 0x80 }), target.allSatisfy({ $0 < 0x80 }) else {
            return SpanLinkHints.digest(method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self))
        }
        var hash = FNV1a()
        hash.add(method)
        hash.add(CollectionOfOne(HTTP1Syntax.space))
        hash.add(target)
        return hash.value
    }

    /// A response head: a final one's status is the exchange's; a `101` names the protocol
    /// switched to (its `Upgrade`, or the request's).
    private mutating func responseHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
        guard !orphanResponse, !pending.isEmpty, let status = head.statusCode else { return }
        if status < 200, status != 101 {
            interimResponse = true
            return
        }
        pending[0].responseStatus = status
        guard status == 101 else { return }
        if let named = head.upgradeProtocol {
            switchedTo = bytes.string(named).lowercased()
        } else if let named = pending[0].upgradeProtocol {
            switchedTo = named.lowercased()
        } else {
            switchedTo = nil
        }
    }

    private var currentRequestIndex: Int? {
        guard let id = currentRequestID else { return nil }
        return pending.position(ofID: id)
    }

    private mutating func setRequestBodySize(_ size: Int?) {
        if let index = currentRequestIndex { pending[index].requestBodySize = size }
    }

    private mutating func completeFront(bodySize: Int?, end: UInt64) {
        reportFront(responseBodySize: bodySize, end: end, incompleteReason: nil)
    }

    private mutating func abandonFront(reason: String, end: UInt64) {
        let responseBodySize = pending[0].responseStatus == nil ? 0 : responses?.currentBodySize ?? nil
        reportFront(responseBodySize: responseBodySize, end: end, incompleteReason: reason)
    }

    /// Removes the oldest exchange and reports it as an operation, built from the exchange
    /// where it lies and where it is appended; nothing when its request head was never captured.
    private mutating func reportFront(responseBodySize: Int?, end: UInt64, incompleteReason: String?) {
        let requestBodySize = requestBodySizeOfFront
        if let operation = Self.takeOperation(
            from: &pending[0], requestBodySize: requestBodySize, responseBodySize: responseBodySize, end: end,
            incompleteReason: incompleteReason
        ) {
            output.append(.operation(operation))
        }
        pending.removeFirst()
    }

    /// The oldest exchange, removed, as an operation; nil when its request head was never captured.
    private mutating func removeFront(responseBodySize: Int?, end: UInt64, incompleteReason: String?) -> ProtocolOperation? {
        let requestBodySize = requestBodySizeOfFront
        defer { pending.removeFirst() }
        return Self.takeOperation(
            from: &pending[0], requestBodySize: requestBodySize, responseBodySize: responseBodySize, end: end,
            incompleteReason: incompleteReason
        )
    }

    /// The oldest exchange's request body size. The request decoder is in place whenever an
    /// exchange is removed: only the response decoder's events and a new request's start
    /// remove exchanges, and no request is being read at a start.
    private var requestBodySizeOfFront: Int? {
        pending[0].id == currentRequestID ? requests?.currentBodySize ?? nil : pending[0].requestBodySize
    }

    /// An exchange as an operation, its details moved out of it into the operation; nil when
    /// its request head was never captured.
    @inline(__always)
    static func takeOperation(
        from exchange: inout PendingExchange, requestBodySize: Int?, responseBodySize: Int?, end: UInt64, incompleteReason: String?
    ) -> ProtocolOperation? {
        guard let http = exchange.http.take() else { return nil }
        return operation(
            for: exchange, http: http, requestBodySize: requestBodySize, responseBodySize: responseBodySize, end: end,
            incompleteReason: incompleteReason
        )
    }

    /// An exchange as an operation: named by the method; an error when abandoned, on a 5xx,
    /// or, for the client, on a 4xx. Its details, laid out when its head was read, are
    /// completed in their box, which the operation (then the span) takes as it is.
    @inline(__always)
    static func operation(
        for exchange: PendingExchange, http: HTTPStorage, requestBodySize: Int?, responseBodySize: Int?, end: UInt64,
        incompleteReason: String?
    ) -> ProtocolOperation {
        let statusCode = exchange.responseStatus
        let status: Span.Status = incompleteReason != nil || (statusCode ?? 0) >= 500 ? .error : .unset
        http.fields.statusCode = statusCode
        http.fields.requestBodySize = requestBodySize
        http.fields.responseBodySize = responseBodySize
        // Built whole by the memberwise initializer, where it is stored.
        return ProtocolOperation(
            exchangeID: UInt64(exchange.id), start: exchange.start, end: max(end, exchange.start), tid: exchange.tid,
            name: exchange.method.string ?? http.details.method, status: status,
            clientStatus: status != .error && (statusCode ?? 0) >= 400 ? .error : nil, statusMessage: incompleteReason,
            http: http.details, attributes: [], requestDigest: exchange.requestDigest, traceContext: exchange.traceContext
        )
    }
}

extension HTTP1ProtocolDecoder {
    /// The span's details of a request, from its head where it lies: its text fields copied
    /// after the other fields in the details' one allocation (method, target, host, user agent,
    /// `traceparent`, one after another), strings made only when the span is output. The
    /// response's figures are added when the exchange ends.
    static func spanDetails(of head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>, keepingQuery keepQuery: Bool) -> HTTPStorage {
        let methodName = head.method.name
        let methodBytes = methodName.map { UnsafeBufferPointer(start: $0.utf8Start, count: $0.utf8CodeUnitCount) }
            ?? bytes[field: head.methodBytes]
        var end: Int32 = 0
        // Lengths by subtraction: `Range<Int32>.count` goes through the generic collection's.
        func place(_ field: Range<Int32>) -> Range<Int32> {
            let start = end
            end += field.upperBound - field.lowerBound
            return start..<end
        }
        let method = place(0..<Int32(methodBytes.count))
        let target = place(head.target)
        let host = head.host.map(place)
        let userAgent = head.userAgent.map(place)
        let traceparent = head.traceparent.map(place)
        let (path, needsSlash) = HTTP1RequestTarget.pathField(of: bytes[field: head.target], keepingQuery: keepQuery)
        let storage = HTTPStorage.make(
            HTTPStorage.Fields(
                textCount: end, method: method, target: target,
                path: (target.lowerBound + Int32(path.lowerBound))..<(target.lowerBound + Int32(path.upperBound)), pathNeedsSlash: needsSlash,
                host: host, userAgent: userAgent, traceparent: traceparent,
                route: nil, statusCode: nil, protocolVersion: HTTP1HeadFields.version(minor: head.minorVersion),
                requestBodySize: 0, responseBodySize: 0
            ),
            textCapacity: Int(end)
        )
        storage.withUnsafeMutablePointerToElements { text in
            func copy(_ source: UnsafeBufferPointer<UInt8>, to field: Range<Int32>) {
                guard let start = source.baseAddress else { return }
                (text + Int(field.lowerBound)).update(from: start, count: source.count)
            }
            copy(methodBytes, to: method)
            copy(bytes[field: head.target], to: target)
            if let field = head.host, let placed = host { copy(bytes[field: field], to: placed) }
            if let field = head.userAgent, let placed = userAgent { copy(bytes[field: field], to: placed) }
            if let field = head.traceparent, let placed = traceparent { copy(bytes[field: field], to: placed) }
        }
        return storage
    }
}

extension HTTP1ProtocolDecoder: HTTP1DecoderEventSink {
    mutating func decoded(_ event: HTTP1DecoderEvent) {
        switch stream {
        case .requests: handleRequest(event)
        case .responses: handleResponse(event)
        }
    }

    mutating func decodedHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
        switch stream {
        case .requests: requestHead(head, in: bytes)
        case .responses: responseHead(head, in: bytes)
        }
    }

    /// The oldest exchange's method: a final response answers it (`responseHead` set its
    /// status), unless the response answers no known request. The decoder's own list stays empty.
    mutating func answeredRequestMethod(waiting: inout [HTTP1Method]) -> HTTP1Method? {
        orphanResponse || pending.isEmpty ? nil : pending[0].method
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
