/// Parses the bytes of a message head (start line and header lines, terminators
/// included) into an `HTTP1MessageHead`.
enum HTTP1HeadParser {
    typealias StartLine = (line: HTTP1MessageHead.StartLine, version: String)

    /// Parses a complete head, or, when `complete` is false, the part of one a capture
    /// gap left: complete lines only, and a request line that may be cut short.
    static func parse(
        _ buffer: [UInt8], kind: HTTP1Decoder.Kind, complete: Bool
    ) -> Result<HTTP1MessageHead, HTTP1DecodeError> {
        // The last piece is empty when the buffer ends with a line feed, else a line cut short.
        var lines = buffer[...].split(separator: HTTP1Syntax.lf, omittingEmptySubsequences: false)
        let unfinished = lines.removeLast()
        let startLine: StartLine
        if let first = lines.first {
            switch parseStartLine(withoutCR(first), kind: kind) {
            case .success(let parsed): startLine = parsed
            case .failure(let error): return .failure(error)
            }
        } else {
            guard !complete, let partial = partialStartLine(unfinished, kind: kind) else {
                return .failure(HTTP1DecodeError(.invalidStartLine, "start line cut short by a capture gap"))
            }
            startLine = partial
        }
        var head = HTTP1MessageHead(startLine: startLine.line, version: startLine.version, isComplete: complete)
        for line in lines.dropFirst() where !withoutCR(line).isEmpty {
            if let error = apply(headerLine: withoutCR(line), to: &head), complete {
                return .failure(error)
            }
        }
        return .success(head)
    }

    static func parseStartLine(
        _ line: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind
    ) -> Result<StartLine, HTTP1DecodeError> {
        switch kind {
        case .request: parseRequestLine(line)
        case .response: parseStatusLine(line)
        }
    }

    private static func parseRequestLine(_ line: ArraySlice<UInt8>) -> Result<StartLine, HTTP1DecodeError> {
        let parts = line.split(separator: HTTP1Syntax.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(HTTP1Syntax.isToken),
              !parts[1].isEmpty, let version = HTTP1Syntax.version(parts[2])
        else {
            return .failure(HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x request line"))
        }
        return .success((.request(method: string(parts[0]), target: string(parts[1])), version))
    }

    private static func parseStatusLine(_ line: ArraySlice<UInt8>) -> Result<StartLine, HTTP1DecodeError> {
        let parts = line.split(separator: HTTP1Syntax.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let version = HTTP1Syntax.version(parts[0]),
              parts[1].count == 3, let code = HTTP1Syntax.decimal(parts[1]), code >= 100
        else {
            return .failure(HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x status line"))
        }
        let reason = parts.count == 3 ? string(parts[2]) : ""
        return .success((.response(statusCode: code, reason: reason), version))
    }

    /// What a start line without its end still says: the method and the start of the
    /// target, or the status code.
    private static func partialStartLine(_ line: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind) -> StartLine? {
        let line = withoutCR(line)
        switch kind {
        case .request:
            let parts = line.split(separator: HTTP1Syntax.space, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, !parts[0].isEmpty, parts[0].allSatisfy(HTTP1Syntax.isToken), !parts[1].isEmpty
            else { return nil }
            let version = parts.count == 3 ? HTTP1Syntax.version(parts[2]) ?? "1.1" : "1.1"
            return (.request(method: string(parts[0]), target: string(parts[1])), version)
        case .response:
            let statusPrefix = line.prefix(12)
            guard statusPrefix.count == 12, statusPrefix.last.map(HTTP1Syntax.isDigit) == true else { return nil }
            guard case .success(let parsed) = parseStatusLine(statusPrefix) else { return nil }
            return parsed
        }
    }

    /// Reads one header line into `head`; returns an error for a malformed line.
    private static func apply(headerLine line: ArraySlice<UInt8>, to head: inout HTTP1MessageHead) -> HTTP1DecodeError? {
        if let first = line.first, first == HTTP1Syntax.space || first == HTTP1Syntax.tab {
            return nil  // obs-fold continuation of a header Periscope does not read
        }
        guard let colon = line.firstIndex(of: HTTP1Syntax.colon), colon > line.startIndex,
              line[..<colon].allSatisfy(HTTP1Syntax.isToken)
        else {
            return HTTP1DecodeError(.invalidHeader, "header line without a valid name")
        }
        let name = line[..<colon]
        let value = HTTP1Syntax.trimmed(line[(colon + 1)...])
        if HTTP1Syntax.equalsIgnoringCase(name, "host") {
            head.host = head.host ?? string(value)
        } else if HTTP1Syntax.equalsIgnoringCase(name, "user-agent") {
            head.userAgent = head.userAgent ?? string(value)
        } else if HTTP1Syntax.equalsIgnoringCase(name, "traceparent") {
            head.traceparent = head.traceparent ?? string(value)
        } else if HTTP1Syntax.equalsIgnoringCase(name, "transfer-encoding") {
            head.transferEncoding = joined(head.transferEncoding, string(value))
        } else if HTTP1Syntax.equalsIgnoringCase(name, "connection") {
            head.connection = joined(head.connection, string(value))
        } else if HTTP1Syntax.equalsIgnoringCase(name, "content-length") {
            // "5", or a list of identical values ("5, 5"), consistent across repeats.
            var length = head.contentLength
            for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard let parsed = HTTP1Syntax.decimal(HTTP1Syntax.trimmed(item)), length == nil || length == parsed else {
                    return HTTP1DecodeError(.invalidContentLength, "Content-Length is not one non-negative number")
                }
                length = parsed
            }
            head.contentLength = length
        }
        return nil
    }

    private static func joined(_ existing: String?, _ value: String) -> String {
        existing.map { "\($0), \(value)" } ?? value
    }

    static func withoutCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == HTTP1Syntax.cr ? line.dropLast() : line
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
