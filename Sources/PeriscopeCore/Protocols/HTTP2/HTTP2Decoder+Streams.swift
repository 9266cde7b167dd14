extension HTTP2Decoder {
    /// A header block the client sent: a new stream's request, or trailers of one in flight.
    mutating func requestHeaders(
        _ streamID: UInt32, endStream: Bool, block: ArraySlice<UInt8>, _ segment: ProtocolSegment,
        into output: inout [ProtocolOutput]
    ) {
        let blockStart = requestBlockStart ?? (segment.timestamp, segment.tid)
        requestBlockStart = nil
        if streams[streamID] != nil {
            // Trailers: decoded for the table only.
            let result = requestHPACK.decode(block) { _ in }
            if let error = result.error { output.append(.decodeError(reason: error.reason)) }
            if endStream { requestEnded(streamID, into: &output) }
            return
        }
        var fields = RequestFields()
        let result = requestHPACK.decode(block) { fields.read($0) }
        if let error = result.error {
            output.append(.decodeError(reason: error.reason))
        } else if result.headerListTooLarge {
            output.append(.decodeError(reason: "header_list_too_large"))
        }
        // Streams the client opens have odd, increasing ids; anything else is a stream
        // that is over (or a push) and only kept the table in step.
        guard streamID % 2 == 1, streamID > highestStreamID else { return }
        highestStreamID = streamID
        guard result.error == nil, !result.headerListTooLarge else { return }
        guard let request = fields.request(unknownFields: result.unknownFields) else {
            output.append(.decodeError(reason: result.unknownFields > 0 ? "hpack_unknown_table_entry" : "missing_pseudo_header"))
            return
        }
        if streams.count >= Self.maxStreams, let oldest = streams.keys.min(), let stream = streams.removeValue(forKey: oldest) {
            output.append(.decodeError(reason: "too_many_streams"))
            output.append(.operation(operation(for: stream, end: segment.timestamp, failure: "too many streams in flight")))
        }
        var stream = HTTP2Stream(
            id: streamID, exchangeID: exchangeIDBase + UInt64(streamID), start: blockStart.timestamp, tid: blockStart.tid, request: request
        )
        stream.requestEnded = endStream
        if Self.isGRPC(contentType: request.contentType) {
            stream.requestMessages = GRPCMessageCounter()
            stream.responseMessages = GRPCMessageCounter()
        }
        streams[streamID] = stream
        output.append(.requestStarted(RequestStart(
            exchangeID: stream.exchangeID, timestamp: stream.start, tid: stream.tid,
            requestDigest: request.digest, traceparent: request.traceparent, streamID: streamID
        )))
    }

    /// A header block the server sent: interim, final response or trailers.
    mutating func responseHeaders(
        _ streamID: UInt32, endStream: Bool, block: ArraySlice<UInt8>, _ segment: ProtocolSegment,
        into output: inout [ProtocolOutput]
    ) {
        var fields = ResponseFields()
        let tracked = streams[streamID] != nil
        let result = responseHPACK.decode(block) { field in
            if tracked { fields.read(field) }
        }
        if let error = result.error { output.append(.decodeError(reason: error.reason)) }
        guard var stream = streams[streamID] else { return }
        if !stream.finalResponseSeen {
            if let status = fields.status, status < 200, !endStream {
                return  // interim (1xx) response
            }
            stream.finalResponseSeen = true
            stream.statusCode = fields.status
            if fields.status == nil, result.error == nil {
                output.append(.decodeError(reason: result.unknownFields > 0 ? "hpack_unknown_table_entry" : "missing_status"))
            }
        }
        if let code = fields.grpcStatus { stream.grpcStatus = code }
        if let message = fields.grpcMessage { stream.grpcMessage = message }
        streams[streamID] = stream
        if endStream { responseEnded(streamID, segment, into: &output) }
    }

    mutating func data(_ streamID: UInt32, _ bytes: ArraySlice<UInt8>, uncaptured: Int, fromClient: Bool) {
        streams[streamID]?.received(bytes, uncaptured: uncaptured, fromClient: fromClient)
    }

    /// The client's END_STREAM: a stream whose answer already ended is complete.
    mutating func requestEnded(_ streamID: UInt32, into output: inout [ProtocolOutput]) {
        guard var stream = streams[streamID] else { return }
        guard let end = stream.responseEnd else {
            stream.requestEnded = true
            streams[streamID] = stream
            return
        }
        streams[streamID] = nil
        output.append(.operation(operation(for: stream, end: end, failure: nil)))
    }

    /// The server's END_STREAM: the stream's operation is complete, once the request is.
    mutating func responseEnded(_ streamID: UInt32, _ segment: ProtocolSegment, into output: inout [ProtocolOutput]) {
        guard let stream = streams[streamID] else { return }
        guard stream.requestEnded else {
            streams[streamID]?.responseEnd = segment.timestamp
            return
        }
        streams[streamID] = nil
        output.append(.operation(operation(for: stream, end: segment.timestamp, failure: nil)))
    }

    /// Streams answered whole whose request's end will not be seen (bytes of it were lost):
    /// reported as they are.
    mutating func endAnswered(into output: inout [ProtocolOutput]) {
        for id in streams.keys.sorted() where streams[id]?.responseEnd != nil {
            if let stream = streams.removeValue(forKey: id) {
                output.append(.operation(operation(for: stream, end: stream.responseEnd ?? stream.start, failure: nil)))
            }
        }
    }

    /// The stream as an operation ending at `end`; `failure` says why it ended early. An
    /// error when abandoned or on a 5xx; for the client also on a 4xx (gRPC: by its code).
    /// A stream whose answer ended whole ends there, whatever ended it since (a reset that
    /// stops the rest of a body the server did not need, the connection's end).
    func operation(for stream: HTTP2Stream, end: UInt64, failure: String?) -> ProtocolOperation {
        let end = stream.responseEnd ?? end
        let failure = stream.responseEnd == nil ? failure : nil
        let request = stream.request
        let statusCode = stream.finalResponseSeen ? stream.statusCode : nil
        let details = HTTPDetails(
            method: request.method,
            path: HTTP1RequestTarget(request.target).path(keepingQuery: keepQuery),
            target: request.target,
            statusCode: statusCode,
            protocolVersion: "2",
            requestBodySize: stream.requestBodySize,
            responseBodySize: stream.responseBodySize,
            host: request.authority,
            userAgent: request.userAgent,
            traceparent: request.traceparent
        )
        var operation = ProtocolOperation(
            exchangeID: stream.exchangeID, start: stream.start, end: max(end, stream.start), tid: stream.tid, name: request.method,
            status: failure != nil || (statusCode ?? 0) >= 500 ? .error : .unset, statusMessage: failure, http: details, streamID: stream.id,
            requestDigest: request.digest, traceparent: request.traceparent
        )
        if operation.status != .error, (statusCode ?? 0) >= 400 { operation.clientStatus = .error }
        if stream.isGRPC { addGRPC(stream, to: &operation) }
        return operation
    }
}

/// The request fields of one header block, as they are visited.
struct RequestFields {
    var method: String?
    var path: String?
    var authority: String?
    var host: String?
    var userAgent: String?
    var traceparent: String?
    var contentType: String?
    var grpcTraceparent: String?

    mutating func read(_ field: HPACKDecoder.Field) {
        guard let nameBytes = field.name, let value = field.value, let name = HTTP2HeaderName(nameBytes) else { return }
        let text = String(decoding: value, as: UTF8.self)
        switch name {
        case .method: method = text
        case .path: path = text
        case .authority: authority = text
        case .host: host = text
        case .userAgent: userAgent = text
        case .traceparent: traceparent = text
        case .contentType: contentType = text
        case .grpcTraceBin: grpcTraceparent = GRPCTraceBin.traceparent(value)
        case .status, .grpcStatus, .grpcMessage: break
        }
    }

    /// The request, when its method and target are known: never guessed, even when
    /// fields that could have been them were unknown table entries.
    func request(unknownFields: Int) -> HTTP2Stream.Request? {
        guard let method, !method.isEmpty else { return nil }
        let target = method == "CONNECT" ? path ?? authority : path
        guard let target, !target.isEmpty else { return nil }
        return HTTP2Stream.Request(
            method: method, target: target, digest: SpanLinkHints.digest(method: method, target: target),
            authority: authority ?? host, userAgent: userAgent,
            traceparent: traceparent ?? grpcTraceparent, contentType: contentType
        )
    }
}

/// The response fields of one header block.
struct ResponseFields {
    var status: Int?
    var grpcStatus: Int?
    var grpcMessage: String?

    mutating func read(_ field: HPACKDecoder.Field) {
        guard let nameBytes = field.name, let value = field.value, let name = HTTP2HeaderName(nameBytes) else { return }
        switch name {
        case .status: status = Self.integer(value, maxDigits: 3)
        case .grpcStatus: grpcStatus = Self.integer(value, maxDigits: 4)
        case .grpcMessage: grpcMessage = GRPCMessage.decoded(value)
        default: break
        }
    }

    static func integer(_ bytes: ArraySlice<UInt8>, maxDigits: Int) -> Int? {
        guard !bytes.isEmpty, bytes.count <= maxDigits else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
