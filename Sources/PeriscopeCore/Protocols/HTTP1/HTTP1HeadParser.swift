/// Parses the bytes of a message head (start line and header lines, terminators
/// included) into an `HTTP1MessageHead`.
enum HTTP1HeadParser {
    typealias StartLine = (line: HTTP1MessageHead.StartLine, version: String)
    /// Bytes parsed in place: slicing them retains nothing.
    typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>

    static func parse(
        _ buffer: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind, complete: Bool, parsedStartLine: StartLine? = nil
    ) -> Result<HTTP1MessageHead, HTTP1DecodeError> {
        buffer.withUnsafeBufferPointer { parse(bytes: $0[...], kind: kind, complete: complete, parsedStartLine: parsedStartLine) }
    }

    static func parseStartLine(_ line: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind) -> Result<StartLine, HTTP1DecodeError> {
        line.withUnsafeBufferPointer { parseStartLine(bytes: $0[...], kind: kind) }
    }

    static func withoutCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == HTTP1Syntax.cr ? line.dropLast() : line
    }

    /// Parses a complete head, or, when `complete` is false, the part of one a capture
    /// gap left: complete lines only, and a request line that may be cut short.
    /// `parsedStartLine` is the start line when the caller already parsed it.
    static func parse(
        bytes buffer: Bytes, kind: HTTP1Decoder.Kind, complete: Bool, parsedStartLine: StartLine?
    ) -> Result<HTTP1MessageHead, HTTP1DecodeError> {
        var fields = Fields(startLine: parsedStartLine)
        var startLine = parsedStartLine
        var lineStart = buffer.startIndex
        var isFirstLine = true
        while let newline = buffer[lineStart...].firstIndex(of: HTTP1Syntax.lf) {
            let line = withoutCR(buffer[lineStart..<newline])
            lineStart = newline + 1
            if isFirstLine {
                isFirstLine = false
                if startLine == nil {
                    switch parseStartLine(bytes: line, kind: kind) {
                    case .success(let parsed): startLine = parsed
                    case .failure(let error): return .failure(error)
                    }
                }
            } else if !line.isEmpty, let error = apply(headerLine: line, to: &fields), complete {
                return .failure(error)
            }
        }
        if isFirstLine {
            startLine = complete ? nil : partialStartLine(buffer[lineStart...], kind: kind)
        }
        guard let startLine else {
            return .failure(HTTP1DecodeError(.invalidStartLine, "start line cut short by a capture gap"))
        }
        (fields.startLine, fields.version) = startLine
        fields.isComplete = complete
        return .success(HTTP1MessageHead(fields: fields))
    }

    typealias Fields = HTTP1MessageHead.Fields

    static func parseStartLine(bytes line: Bytes, kind: HTTP1Decoder.Kind) -> Result<StartLine, HTTP1DecodeError> {
        switch kind {
        case .request: parseRequestLine(line)
        case .response: parseStatusLine(line)
        }
    }

    /// A start line cut at its first two spaces; the third part keeps any further spaces.
    struct StartLineParts {
        var first: Bytes
        var second: Bytes?
        var third: Bytes?

        init(_ line: Bytes) {
            guard let space = line.firstIndex(of: HTTP1Syntax.space) else {
                first = line
                return
            }
            first = line[..<space]
            let rest = line[(space + 1)...]
            guard let next = rest.firstIndex(of: HTTP1Syntax.space) else {
                second = rest
                return
            }
            second = rest[..<next]
            third = rest[(next + 1)...]
        }
    }

    private static func parseRequestLine(_ line: Bytes) -> Result<StartLine, HTTP1DecodeError> {
        let parts = StartLineParts(line)
        guard !parts.first.isEmpty, parts.first.allSatisfy(HTTP1Syntax.isToken),
              let target = parts.second, !target.isEmpty, let versionText = parts.third,
              let version = HTTP1Syntax.version(versionText)
        else {
            return .failure(HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x request line"))
        }
        return .success((.request(method: string(parts.first), target: string(target)), version))
    }

    private static func parseStatusLine(_ line: Bytes) -> Result<StartLine, HTTP1DecodeError> {
        let parts = StartLineParts(line)
        guard let version = HTTP1Syntax.version(parts.first),
              let codeText = parts.second, codeText.count == 3, let code = HTTP1Syntax.decimal(codeText), code >= 100
        else {
            return .failure(HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x status line"))
        }
        let reason = parts.third.map(string) ?? ""
        return .success((.response(statusCode: code, reason: reason), version))
    }

    /// What a start line without its end still says: the method and the start of the
    /// target, or the status code.
    private static func partialStartLine(_ line: Bytes, kind: HTTP1Decoder.Kind) -> StartLine? {
        let line = withoutCR(line)
        switch kind {
        case .request:
            let parts = StartLineParts(line)
            guard !parts.first.isEmpty, parts.first.allSatisfy(HTTP1Syntax.isToken), let target = parts.second, !target.isEmpty
            else { return nil }
            let version = parts.third.flatMap(HTTP1Syntax.version) ?? "1.1"
            return (.request(method: string(parts.first), target: string(target)), version)
        case .response:
            let statusPrefix = line.prefix(12)
            guard statusPrefix.count == 12, statusPrefix.last.map(HTTP1Syntax.isDigit) == true else { return nil }
            guard case .success(let parsed) = parseStatusLine(statusPrefix) else { return nil }
            return parsed
        }
    }

    /// Reads one header line into `fields`; returns an error for a malformed line. The name
    /// is checked and its end found in one scan: a name is tokens up to the colon.
    static func apply(headerLine line: Bytes, to fields: inout Fields) -> HTTP1DecodeError? {
        guard let first = line.first else { return nil }
        if first == HTTP1Syntax.space || first == HTTP1Syntax.tab {
            return nil  // obs-fold continuation of a header Periscope does not read
        }
        var colon = line.startIndex
        while colon < line.endIndex, HTTP1Syntax.isTokenByte(line.base[colon]) { colon += 1 }
        guard colon > line.startIndex, colon < line.endIndex, line.base[colon] == HTTP1Syntax.colon else {
            return HTTP1DecodeError(.invalidHeader, "header line without a valid name")
        }
        guard let name = HTTP1HeaderName(line[..<colon]) else { return nil }
        let value = HTTP1Syntax.trimmed(line[(colon + 1)...])
        switch name {
        case .host: fields.host = fields.host ?? string(value)
        case .userAgent: fields.userAgent = fields.userAgent ?? string(value)
        case .traceparent: fields.traceparent = fields.traceparent ?? string(value)
        case .transferEncoding: fields.transferEncoding = joined(fields.transferEncoding, string(value))
        case .connection: fields.connection = joined(fields.connection, string(value))
        case .upgrade: fields.upgrade = joined(fields.upgrade, string(value))
        case .contentLength:
            // "5", or a list of identical values ("5, 5"), consistent across repeats.
            var length = fields.contentLength
            if let parsed = HTTP1Syntax.decimal(value), length == nil || length == parsed {
                fields.contentLength = parsed  // the usual single value
                return nil
            }
            for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard let parsed = HTTP1Syntax.decimal(HTTP1Syntax.trimmed(item)), length == nil || length == parsed else {
                    return HTTP1DecodeError(.invalidContentLength, "Content-Length is not one non-negative number")
                }
                length = parsed
            }
            fields.contentLength = length
        }
        return nil
    }

    private static func joined(_ existing: String?, _ value: String) -> String {
        existing.map { "\($0), \(value)" } ?? value
    }

    static func withoutCR(_ line: Bytes) -> Bytes {
        line.last == HTTP1Syntax.cr ? line.dropLast() : line
    }

    static func string(_ bytes: Bytes) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension HTTP1MessageHead.Fields {
    /// A head with `startLine` (a placeholder while it is not known) and no headers yet.
    init(startLine: HTTP1HeadParser.StartLine?) {
        self.init(
            startLine: startLine?.line ?? .request(method: "", target: ""), version: startLine?.version ?? "1.1", host: nil,
            userAgent: nil, traceparent: nil, contentLength: nil, transferEncoding: nil, connection: nil, upgrade: nil,
            isComplete: true
        )
    }
}
