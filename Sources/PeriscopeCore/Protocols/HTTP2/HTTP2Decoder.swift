/// Decodes both directions of one HTTP/2 connection (cleartext h2c, or TLS plaintext) into
/// one operation per stream, announced by `.requestStarted` (exchange id = stream id) once
/// its request headers are read: method, path, status, body sizes, timing from the stream's
/// first request byte to its last response byte, and for gRPC the RPC's name, status and
/// message counts (`HTTP2Decoder+GRPC`).
///
/// Streams interleave freely. State is bounded: at most `maxStreams` streams are tracked
/// (the oldest is abandoned for a new one), header blocks and HPACK tables have fixed
/// limits, and everything broken is reported as a `.decodeError` with a stable reason and
/// costs only what it touched: an invalid frame is skipped by its length, a stream whose
/// headers cannot be decoded is reported and dropped, the others go on.
///
/// A connection joined midway (the agent started after it opened) decodes every stream
/// whose request fields come from HPACK's static table, literals or entries inserted since;
/// a stream that needs an entry never seen is reported as `hpack_unknown_table_entry`,
/// never given a guessed method or path.
public struct HTTP2Decoder: ProtocolDecoder {
    /// Streams tracked at once; a new one beyond abandons the oldest.
    public static let maxStreams = 256
    /// SETTINGS_HEADER_TABLE_SIZE announcements awaiting the peer's ACK, per side.
    static let maxPendingSettings = 8

    var requestReader: HTTP2FrameReader?
    var responseReader: HTTP2FrameReader?
    /// Decodes what the client sent (the client's encoder) and what the server sent.
    var requestHPACK = HPACKDecoder()
    var responseHPACK = HPACKDecoder()
    var streams: [UInt32: HTTP2Stream] = [:]
    /// The highest stream id the client opened: a HEADERS at or below it on an untracked
    /// stream belongs to one already over.
    var highestStreamID: UInt32 = 0
    /// SETTINGS_HEADER_TABLE_SIZE each side announced, applied to the other side's encoder
    /// at its ACK (increases at once).
    var clientTableSizes: [Int] = []
    var serverTableSizes: [Int] = []
    /// Where and when the header block being gathered on each side began.
    var requestBlockStart: (timestamp: UInt64, tid: Int32)?
    /// True once `finish` ran.
    var isFinished = false
    /// Keep URL query strings in `HTTPDetails.path` (`capture.keepQuery`).
    let keepQuery: Bool
    /// Added to a stream's id to make its exchange id: above every HTTP/1 exchange id on a
    /// connection upgraded from HTTP/1.1, whose first request keeps its own.
    var exchangeIDBase: UInt64 = 0

    /// A connection whose bytes are seen from its start (or, when they do not begin with
    /// a connection preface, from some point in it: detected by the decoder).
    public init(configuration: ProtocolConfiguration = .init()) {
        keepQuery = configuration.keepQuery
    }

    /// A connection upgraded from HTTP/1.1 (`Upgrade: h2c` answered by `101`, RFC 7540
    /// §3.2): the upgrade request is stream 1, already sent whole, its response still to
    /// come as HTTP/2. Feed the decoder what follows the request on the client's stream
    /// (the connection preface) and what follows the `101` response's head on the server's.
    /// `exchangeID`: the one the request was announced with (`.requestStarted`), repeated
    /// by its operation; the decoder does not announce it again.
    public init(
        upgradedRequest request: HTTPDetails, start: UInt64, tid: Int32, exchangeID: UInt64? = nil,
        configuration: ProtocolConfiguration = .init()
    ) {
        keepQuery = configuration.keepQuery
        exchangeIDBase = 1 << 32
        var stream = HTTP2Stream(
            id: 1, exchangeID: exchangeID ?? 1, start: start, tid: tid,
            request: HTTP2Stream.Request(
                method: request.method, target: request.target,
                digest: SpanLinkHints.digest(method: request.method, target: request.target), authority: request.host,
                userAgent: request.userAgent, traceparent: request.traceparent
            )
        )
        stream.requestEnded = true
        stream.requestBodySize = request.requestBodySize ?? 0  // an upgrade request of unknown size: h2c clients send none
        streams[1] = stream
        highestStreamID = 1
    }

    /// Streams in flight (their request seen, their response not over).
    public var openStreamCount: Int { streams.count }

    public mutating func receive(_ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        guard !isFinished else { return }
        switch segment.stream {
        case .requests:
            let fresh = requestReader == nil
            if fresh {
                let startsWithPreface = segment.bytes.first == HTTP2FrameReader.preface[0]
                requestReader = HTTP2FrameReader(expectingPreface: startsWithPreface)
                if !startsWithPreface { requestHPACK = HPACKDecoder(tableKnown: false) }
            }
            var reader = requestReader!
            requestReader = nil
            read(segment, with: &reader, fresh: fresh, into: &output)
            requestReader = reader
        case .responses:
            let fresh = responseReader == nil
            if fresh {
                responseReader = HTTP2FrameReader(expectingPreface: false)
                if !Self.startsWithServerPreface(segment.bytes) { responseHPACK = HPACKDecoder(tableKnown: false) }
            }
            var reader = responseReader!
            responseReader = nil
            read(segment, with: &reader, fresh: fresh, into: &output)
            responseReader = reader
        }
    }

    public mutating func finish(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        guard !isFinished else { return }
        isFinished = true
        for id in streams.keys.sorted() {
            if let stream = streams.removeValue(forKey: id) {
                output.append(.operation(operation(for: stream, end: timestamp, failure: reason)))
            }
        }
    }

    /// Reads one segment's frames and acts on each.
    /// `fresh`: the reader was made for this segment.
    private mutating func read(
        _ segment: ProtocolSegment, with reader: inout HTTP2FrameReader, fresh: Bool, into output: inout [ProtocolOutput]
    ) {
        var input = segment.bytes
        if fresh || reader.state == .lostSync,
           let mark = segment.frameWalk.first(where: { $0.startsFrame && $0.bytes.isEmpty && $0.offset > 0 && $0.offset < input.count }) {
            // A read or write that starts inside a frame (after bytes shed or lost): the kernel's
            // walk says where its first frame header is.
            input = input.dropFirst(mark.offset)
        }
        if reader.state == .lostSync, !input.isEmpty {
            // The table was forgotten when sync was lost.
            _ = reader.resynchronize(at: input)
        }
        // The capture's copy of the syscall's last bytes is read as such; only the bytes
        // between the prefix and it are skipped by length.
        var tail = segment.tail.suffix(max(0, segment.gap))
        var gap = segment.gap - tail.count
        if !segment.frameWalk.isEmpty {
            // The frames the kernel walked past the prefix are read where they were; only
            // what lies between them is skipped by length.
            var none = 0
            while let event = reader.next(&input, gap: &none) {
                handle(event, segment, into: &output)
            }
            let tailStart = segment.bytes.count + gap
            var position = segment.bytes.count
            for range in segment.frameWalk {
                let end = range.offset + range.bytes.count
                guard range.offset >= 0, end > position, end <= tailStart + tail.count else { continue }
                if range.offset > position {
                    var skipped = range.offset - position
                    while let event = reader.next(&input, gap: &skipped) {
                        handle(event, segment, into: &output)
                    }
                    position = range.offset
                }
                if range.startsFrame, range.offset == position, reader.state == .lostSync {
                    _ = reader.resynchronize(at: range.bytes)
                }
                var bytes = range.bytes.dropFirst(position - range.offset)
                while let event = reader.next(&bytes, gap: &none) {
                    handle(event, segment, into: &output)
                }
                position = end
            }
            gap = max(0, tailStart - position)
            tail = tail.dropFirst(max(0, position - tailStart))
        }
        while let event = reader.next(&input, gap: &gap) {
            handle(event, segment, into: &output)
        }
        // Where the skipped bytes ended inside a frame, the tail continues it; where a frame
        // header was among them, the tail's last whole frames are found afresh.
        if !tail.isEmpty, reader.state != .lostSync || reader.resynchronize(atEndOf: &tail) {
            while let event = reader.next(&tail, gap: &gap) {
                handle(event, segment, into: &output)
            }
        }
        if segment.stream == .requests {
            if reader.isInHeaderBlock {
                if requestBlockStart == nil { requestBlockStart = (segment.timestamp, segment.tid) }
            } else {
                requestBlockStart = nil
            }
        }
    }

    private mutating func handle(_ event: HTTP2FrameReader.Event, _ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        let fromClient = segment.stream == .requests
        switch event {
        case .preface:
            break
        case .headers(let streamID, let endStream, let block):
            if fromClient {
                requestHeaders(streamID, endStream: endStream, block: block, segment, into: &output)
            } else {
                responseHeaders(streamID, endStream: endStream, block: block, segment, into: &output)
            }
        case .pushPromise(_, _, let block):
            guard !fromClient else {
                // Only servers push (RFC 9113 §8.4); the client's encoder compressed the block.
                output.append(.decodeError(reason: "push_promise_from_client"))
                requestHPACK.forgetTable()
                break
            }
            // Pushed responses are not requests of this client: decoded only to keep the table.
            let result = responseHPACK.decode(block) { _ in }
            if let error = result.error { output.append(.decodeError(reason: error.reason)) }
        case .headerBlockLost(let streamID, let endStream, let reason):
            output.append(.decodeError(reason: reason))
            if fromClient {
                requestHPACK.forgetTable()
                requestBlockStart = nil
                highestStreamID = max(highestStreamID, streamID)
                if endStream { requestEnded(streamID, into: &output) }
            } else {
                responseHPACK.forgetTable()
                if endStream { responseEnded(streamID, segment, into: &output) }
            }
        case .data(let streamID, let bytes, let uncaptured):
            data(streamID, bytes, uncaptured: uncaptured, fromClient: fromClient)
        case .dataEndStream(let streamID):
            if fromClient {
                requestEnded(streamID, into: &output)
            } else {
                responseEnded(streamID, segment, into: &output)
            }
        case .resetStream(let streamID, let errorCode):
            if let stream = streams.removeValue(forKey: streamID) {
                let side = fromClient ? "client" : "server"
                output.append(.operation(operation(
                    for: stream, end: segment.timestamp,
                    failure: "stream reset by the \(side) (\(HTTP2ErrorCode.name(errorCode)))"
                )))
            }
        case .settings(let ack, let headerTableSize):
            settings(ack: ack, headerTableSize: headerTableSize, fromClient: fromClient)
        case .goAway(let lastStreamID, let errorCode):
            // The server's GOAWAY: streams the client opened after `lastStreamID` were not processed.
            guard !fromClient else { break }
            for id in streams.keys.sorted() where id > lastStreamID {
                if let stream = streams.removeValue(forKey: id) {
                    output.append(.operation(operation(
                        for: stream, end: segment.timestamp,
                        failure: "refused by GOAWAY (\(HTTP2ErrorCode.name(errorCode)))"
                    )))
                }
            }
        case .invalid(let reason):
            output.append(.decodeError(reason: reason))
        case .lostSync:
            output.append(.lostSync)
            if fromClient {
                requestHPACK.forgetTable()
                requestBlockStart = nil
                endAnswered(into: &output)
            } else {
                responseHPACK.forgetTable()
            }
        }
    }

    private mutating func settings(ack: Bool, headerTableSize: Int?, fromClient: Bool) {
        if ack {
            // The side acknowledging now encodes within what the other side announced.
            if fromClient {
                if !serverTableSizes.isEmpty { requestHPACK.setAllowedTableSize(serverTableSizes.removeFirst()) }
            } else {
                if !clientTableSizes.isEmpty { responseHPACK.setAllowedTableSize(clientTableSizes.removeFirst()) }
            }
            return
        }
        // Announced sizes are applied at the ACK; a larger one is allowed at once, as the
        // peer may use it as soon as it read it.
        let size = headerTableSize
        if fromClient {
            if let size, size > responseHPACK.allowedTableSize { responseHPACK.setAllowedTableSize(size) }
            if clientTableSizes.count == Self.maxPendingSettings { clientTableSizes.removeFirst() }
            clientTableSizes.append(size ?? responseHPACK.allowedTableSize)
        } else {
            if let size, size > requestHPACK.allowedTableSize { requestHPACK.setAllowedTableSize(size) }
            if serverTableSizes.count == Self.maxPendingSettings { serverTableSizes.removeFirst() }
            serverTableSizes.append(size ?? requestHPACK.allowedTableSize)
        }
    }

    /// Whether `bytes` start with what a server sends first: a SETTINGS frame, not an ACK.
    static func startsWithServerPreface(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= HTTP2FrameHeader.size else { return false }
        let header = HTTP2FrameHeader(bytes)
        return header.kind == .settings && !header.has(HTTP2FrameHeader.Flag.ack) && header.violation == nil
    }
}
