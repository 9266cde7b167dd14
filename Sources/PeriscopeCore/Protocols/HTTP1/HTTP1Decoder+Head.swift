extension HTTP1Decoder {
    private static let statusLinePrefix = Array("HTTP/".utf8)
    private static let maxMethodLength = 32

    /// Reads head bytes until the empty line that ends the head; returns the index after
    /// the last byte consumed.
    mutating func consumeHead(
        _ bytes: ArraySlice<UInt8>, from start: Int, _ events: inout some HTTP1DecoderEventSink
    ) -> Int {
        var index = start
        while index < bytes.endIndex {
            // One line (or the rest of the input) at a time.
            let lineEnd = bytes[index...].firstIndex(of: HTTP1Syntax.lf).map { $0 + 1 } ?? bytes.endIndex
            let segment = bytes[index..<lineEnd]
            index = lineEnd
            if let byte = segment.first(where: { !HTTP1Syntax.isAllowedInHead($0) }) {
                fail(&events, HTTP1DecodeError(.invalidByte, "byte \(byte) cannot appear in a message head"))
                return index
            }
            guard headBuffer.count + segment.count <= Self.maxHeadSize else {
                fail(&events, HTTP1DecodeError(.headTooLarge, "head larger than \(Self.maxHeadSize) bytes"))
                return index
            }
            var position = headBuffer.count
            for byte in segment where !startLinePrefixChecked && byte != HTTP1Syntax.lf {
                guard startLinePrefixIsValid(byte, at: position) else {
                    fail(&events, HTTP1DecodeError(.invalidStartLine, "not the start of an HTTP/1.x \(kind)"))
                    return index
                }
                position += 1
            }
            headBuffer.append(contentsOf: segment)
            guard segment.last == HTTP1Syntax.lf else { continue }
            if endsWithEmptyLine {
                completeHead(&events)
                return index
            }
            if !startLineChecked {
                if let error = HTTP1HeadParser.checkStartLine(HTTP1HeadParser.withoutCR(headBuffer.dropLast()), kind: kind) {
                    fail(&events, error)
                    return index
                }
                startLineChecked = true
            }
        }
        return index
    }

    /// The usual case: a whole, clean head at `start`, read in one pass where it lies instead
    /// of line by line through `headBuffer`. Returns the index after it, or nil, having done
    /// nothing, when the head is cut short, too large or not clean: `consumeHead` then takes
    /// the bytes and reports exactly what is wrong.
    mutating func consumeWholeHead(
        _ bytes: ArraySlice<UInt8>, from start: Int, _ events: inout some HTTP1DecoderEventSink
    ) -> Int? {
        var head = HTTP1HeadFields()
        guard headBuffer.isEmpty, !startLinePrefixChecked, !startLineChecked,
              let length = HTTP1HeadParser.parseWholeHead(bytes[start...], kind: kind, into: &head)
        else { return nil }
        finishHead(head, in: bytes[start...], &events)
        return start + length
    }

    /// Rejects garbage early: a request starts with a method token and a space, a
    /// response with `HTTP/`.
    private mutating func startLinePrefixIsValid(_ byte: UInt8, at position: Int) -> Bool {
        switch kind {
        case .response:
            guard position < Self.statusLinePrefix.count else {
                startLinePrefixChecked = true
                return true
            }
            return byte == Self.statusLinePrefix[position]
        case .request:
            if byte == HTTP1Syntax.space {
                startLinePrefixChecked = true
                return position > 0
            }
            return HTTP1Syntax.isToken(byte) && position < Self.maxMethodLength
        }
    }

    private var endsWithEmptyLine: Bool {
        let count = headBuffer.count
        guard count >= 2 else { return false }
        if headBuffer[count - 2] == HTTP1Syntax.lf { return true }
        return count >= 3 && headBuffer[count - 2] == HTTP1Syntax.cr && headBuffer[count - 3] == HTTP1Syntax.lf
    }

    /// Reports the head and chooses how the body is framed (RFC 9112 §6.3).
    private mutating func completeHead(_ events: inout some HTTP1DecoderEventSink) {
        switch HTTP1HeadParser.parse(headBuffer[...], kind: kind, complete: true) {
        case .success(let parsed):
            // The head's bytes stay in the buffer while it is reported.
            finishHead(parsed, in: headBuffer[...], &events)
            if state != .opaque { headBuffer.removeAll(keepingCapacity: true) }
        case .failure(let error):
            fail(&events, error)
        }
    }

    private mutating func finishHead(
        _ head: HTTP1HeadFields, in bytes: ArraySlice<UInt8>, _ events: inout some HTTP1DecoderEventSink
    ) {
        bytes.withUnsafeBufferPointer { events.decodedHead(head, in: $0) }
        switch kind {
        case .request: frameRequestBody(head, &events)
        case .response: frameResponseBody(head, &events)
        }
    }

    private mutating func frameRequestBody(_ head: HTTP1HeadFields, _ events: inout some HTTP1DecoderEventSink) {
        if head.hasTransferEncoding {
            guard head.isChunked else {
                return fail(&events, HTTP1DecodeError(
                    .unsupportedTransferEncoding, "request Transfer-Encoding does not end with chunked"))
            }
            startChunkedBody()
        } else if let length = head.contentLength, length > 0 {
            state = .body(remaining: length)
        } else {
            endMessage(&events)
            // What follows a CONNECT request is the tunnel, not HTTP.
            if head.method == .connect { state = .opaque }
        }
    }

    private mutating func frameResponseBody(_ head: HTTP1HeadFields, _ events: inout some HTTP1DecoderEventSink) {
        let status = head.statusCode ?? 0
        if status < 200, status != 101 {
            return endMessage(&events)  // interim response: the final one follows
        }
        let method = events.answeredRequestMethod(waiting: &pendingRequestMethods)
        if status == 101 || method == .connect && (200..<300).contains(status) {
            endMessage(&events)
            events.decoded(.upgraded)
            state = .opaque
            switchedInThisInput = true
        } else if method == .head || status == 204 || status == 304 {
            endMessage(&events)
        } else if head.hasTransferEncoding {
            if head.isChunked { startChunkedBody() } else { state = .untilClose }
        } else if let length = head.contentLength {
            if length > 0 { state = .body(remaining: length) } else { endMessage(&events) }
        } else {
            state = .untilClose
        }
    }
}
