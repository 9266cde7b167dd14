/// HTTP/1.x as a protocol: `HTTP1ConnectionDecoder` pairs requests with responses, and
/// each exchange becomes an operation named by its method.
public struct HTTP1ProtocolDecoder: ProtocolDecoder {
    var decoder = HTTP1ConnectionDecoder()
    let keepQuery: Bool
    /// Reused for each read's connection events.
    var scratch: [HTTP1ConnectionEvent] = []

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
        let stream: HTTP1ConnectionDecoder.Stream = segment.stream == .requests ? .requests : .responses
        var events: [HTTP1ConnectionEvent] = []
        swap(&events, &scratch)
        decoder.receive(
            stream, bytes: segment.bytes, gap: segment.gap, tail: segment.tail, chunkWalk: segment.chunkWalk,
            timestamp: segment.timestamp, tid: segment.tid, into: &events
        )
        for event in events { append(event, in: segment, to: &output) }
        events.removeAll(keepingCapacity: true)
        swap(&events, &scratch)
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        for event in decoder.finish(at: timestamp, reason: reason) { append(event, in: nil, to: &output) }
    }

    /// `segment`: the read or write whose bytes gave `event`; nil at the connection's end.
    private func append(_ event: HTTP1ConnectionEvent, in segment: ProtocolSegment?, to output: inout [ProtocolOutput]) {
        switch event {
        case .requestStarted(let id, let head, let timestamp, let tid):
            output.append(.requestStarted(RequestStart(
                exchangeID: UInt64(id), timestamp: timestamp, tid: tid,
                requestDigest: SpanLinkHints.digest(method: head.method ?? "", target: head.target ?? ""),
                traceparent: head.traceparent
            )))
        case .exchange(let exchange):
            output.append(.operation(operation(for: exchange)))
        case .lostSync:
            output.append(.lostSync)
        case .decodeError:
            output.append(.decodeError(reason: "invalid_message"))
        case .upgraded(let name, let timestamp, let exchange, let remainder):
            var upgrade = ProtocolUpgrade(protocolName: name, timestamp: timestamp)
            upgrade.operation = exchange.map(operation(for:))
            if let segment, !remainder.isEmpty {
                var rest = segment
                rest.bytes = remainder
                upgrade.remainder = rest
            }
            output.append(.upgraded(upgrade))
        }
    }

    /// An exchange as an operation: named by the method; an error when abandoned, on a 5xx,
    /// or, for the client, on a 4xx.
    func operation(for exchange: HTTP1Exchange) -> ProtocolOperation {
        let request = exchange.request
        let method = request.method ?? ""
        let target = request.target ?? ""
        let statusCode = exchange.response?.statusCode
        let status: Span.Status = exchange.incompleteReason != nil || (statusCode ?? 0) >= 500 ? .error : .unset
        let details = HTTPDetails(
            method: method,
            path: HTTP1RequestTarget(target).path(keepingQuery: keepQuery),
            target: target,
            statusCode: statusCode,
            protocolVersion: request.version,
            requestBodySize: exchange.requestBodySize,
            responseBodySize: exchange.responseBodySize,
            host: request.host,
            userAgent: request.userAgent,
            traceparent: request.traceparent
        )
        var operation = ProtocolOperation(
            exchangeID: UInt64(exchange.id), start: exchange.startTimestamp, end: exchange.endTimestamp, tid: exchange.tid,
            name: method, status: status, statusMessage: exchange.incompleteReason, http: details,
            requestDigest: SpanLinkHints.digest(method: method, target: target), traceparent: request.traceparent
        )
        if status != .error, (statusCode ?? 0) >= 400 { operation.clientStatus = .error }
        return operation
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
