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

    /// Each direction's decoder, in place while it decodes: what it finds goes to `pairing`,
    /// a value of its own beside it (a decoder calling back into the value that holds it
    /// would have to be moved out of it for each segment, and back).
    var requests = HTTP1Decoder(kind: .request)
    var responses = HTTP1Decoder(kind: .response)
    var pairing: Pairing

    public init(configuration: ProtocolConfiguration = .init()) {
        pairing = Pairing(keepQuery: configuration.keepQuery)
    }

    /// The exchanges awaiting a response.
    var pending: PendingExchanges { pairing.pending }

    public static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection {
        switch HTTP1MessageStart(classifying: bytes) {
        case .request: stream == .requests ? .matches : .doesNotMatch
        case .response: stream == .responses ? .matches : .doesNotMatch
        case .undecided: .needMoreBytes
        case .notHTTP: .doesNotMatch
        }
    }

    public mutating func receive(_ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        guard !pairing.isOpaque else { return }
        swap(&pairing.output, &output)
        defer { swap(&pairing.output, &output) }
        pairing.stream = segment.stream
        pairing.timestamp = segment.timestamp
        pairing.tid = segment.tid
        switch segment.stream {
        case .requests:
            guard !requests.isOpaque else { return }
            withUnsafeMutablePointer(to: &responses) { responses in
                pairing.responseDecoder = responses
                Self.decode(segment, with: &requests, into: &pairing)
                pairing.responseDecoder = nil
            }
        case .responses:
            // Each final response takes its request's method from `pending` (`answeredRequestMethod`).
            withUnsafeMutablePointer(to: &requests) { requests in
                pairing.requestDecoder = requests
                Self.decode(segment, with: &responses, into: &pairing)
                pairing.requestDecoder = nil
            }
            if pairing.responsesSwitched {
                let remainder = responses.bytesAfterUpgrade
                withDecoders { $0.switchProtocols(segment, remainder: remainder) }
            }
            if pairing.responsesFailed {
                withDecoders { pairing in
                    while !pairing.pending.isEmpty { pairing.abandonFront(reason: "response could not be decoded", end: pairing.timestamp) }
                }
                pairing.isOpaque = true
            }
            if !pairing.pending.isEmpty, pairing.pending[0].responseStarted { pairing.pending[0].lastResponseTimestamp = segment.timestamp }
        }
        if requests.isOpaque, pairing.pending.isEmpty { pairing.isOpaque = true }
    }

    /// The captured bytes, then the `gap` bytes moved beyond them: skipped by count up to the
    /// tail, which is read (framing at the end of a long write, a chunk's CRLF or the last
    /// chunk, keeps a chunked body's size exact whatever the capture size), or walked by the
    /// kernel's walk of their chunk headers.
    private static func decode(_ segment: ProtocolSegment, with decoder: inout HTTP1Decoder, into pairing: inout Pairing) {
        decoder.decode(segment.bytes, sink: &pairing)
        guard segment.gap > 0 else { return }  // the usual segment: all it moved was captured
        let tail = segment.tail.suffix(segment.gap)
        let skipped = segment.gap - tail.count
        if let walk = segment.chunkWalk,
           decoder.skip(segment.gap, after: segment.bytes.count, tail: tail, walk: walk, sink: &pairing) {
            return
        }
        if skipped > 0 { decoder.skip(skipped, sink: &pairing) }
        decoder.decode(tail, sink: &pairing)
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        swap(&pairing.output, &output)
        defer { swap(&pairing.output, &output) }
        if !pairing.isOpaque {
            // A response read until close or out of sync ends with its last byte.
            let responseEnds = responses.finish()
            withDecoders { pairing in
                for case .messageEnd(let size) in responseEnds where !pairing.orphanResponse && !pairing.interimResponse {
                    if !pairing.pending.isEmpty { pairing.completeFront(bodySize: size, end: pairing.pending[0].lastResponseTimestamp) }
                }
            }
            for case .messageEnd(let size) in requests.finish() { pairing.setRequestBodySize(size) }
        }
        withDecoders { pairing in
            while !pairing.pending.isEmpty { pairing.abandonFront(reason: reason, end: timestamp) }
        }
        pairing.isOpaque = true
    }

    /// Hands `body` the pairing with both decoders in place, their figures readable.
    private mutating func withDecoders(_ body: (inout Pairing) -> Void) {
        withUnsafeMutablePointer(to: &requests) { requests in
            withUnsafeMutablePointer(to: &responses) { responses in
                pairing.requestDecoder = requests
                pairing.responseDecoder = responses
                body(&pairing)
                pairing.requestDecoder = nil
                pairing.responseDecoder = nil
            }
        }
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

extension ProtocolRegistration {
    public static let http1 = ProtocolRegistration(
        name: .http,
        label: "http1",
        detect: { HTTP1ProtocolDecoder.detect($0, stream: $1) },
        make: { HTTP1ProtocolDecoder(configuration: $0) }
    )
}
