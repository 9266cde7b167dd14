/// Parses the bytes of a message head (start line and header lines, terminators
/// included) into `HTTP1HeadFields`: positions and numbers, no strings.
enum HTTP1HeadParser {
    /// Bytes parsed in place: slicing them retains nothing. Indices count from the head's start.
    typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>
    typealias Fields = HTTP1HeadFields

    static func parse(_ buffer: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind, complete: Bool) -> Result<Fields, HTTP1DecodeError> {
        buffer.withUnsafeBufferPointer { parse(bytes: $0[...], kind: kind, complete: complete) }
    }

    /// Checks a start line (without its terminator).
    static func checkStartLine(_ line: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind) -> HTTP1DecodeError? {
        line.withUnsafeBufferPointer {
            var fields = Fields()
            return parseStartLine(bytes: $0[...], kind: kind, into: &fields)
        }
    }

    static func withoutCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == HTTP1Syntax.cr ? line.dropLast() : line
    }

    /// Parses a complete head, or, when `complete` is false, the part of one a capture
    /// gap left: complete lines only, and a request line that may be cut short.
    static func parse(bytes buffer: Bytes, kind: HTTP1Decoder.Kind, complete: Bool) -> Result<Fields, HTTP1DecodeError> {
        var fields = Fields()
        var lineStart = buffer.startIndex
        var isFirstLine = true
        while let newline = buffer[lineStart...].firstIndex(of: HTTP1Syntax.lf) {
            let line = withoutCR(buffer[lineStart..<newline])
            lineStart = newline + 1
            if isFirstLine {
                isFirstLine = false
                if let error = parseStartLine(bytes: line, kind: kind, into: &fields) { return .failure(error) }
                fields.headerStart = Int32(lineStart)
            } else if !line.isEmpty, let error = apply(headerLine: line, to: &fields), complete {
                return .failure(error)
            }
        }
        if isFirstLine {
            guard !complete, partialStartLine(buffer[lineStart...], kind: kind, into: &fields) else {
                return .failure(HTTP1DecodeError(.invalidStartLine, "start line cut short by a capture gap"))
            }
            fields.headerStart = Int32(lineStart)
        }
        fields.end = Int32(lineStart)
        fields.isComplete = complete
        return .success(fields)
    }

    /// Reads a start line into `fields`; an error when it is not HTTP/1.x.
    static func parseStartLine(bytes line: Bytes, kind: HTTP1Decoder.Kind, into fields: inout Fields) -> HTTP1DecodeError? {
        switch kind {
        case .request: parseRequestLine(line, into: &fields)
        case .response: parseStatusLine(line, into: &fields)
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

    static func field(_ bytes: Bytes) -> Fields.Field {
        Int32(bytes.startIndex)..<Int32(bytes.endIndex)
    }

    private static func isMethod(_ bytes: Bytes) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(HTTP1Syntax.isTokenByte)
    }

    private static func setRequest(method: Bytes, target: Bytes, into fields: inout Fields) {
        fields.methodBytes = field(method)
        fields.method = HTTP1Method(UnsafeBufferPointer(rebasing: method))
        fields.target = field(target)
    }

    private static func parseRequestLine(_ line: Bytes, into fields: inout Fields) -> HTTP1DecodeError? {
        let parts = StartLineParts(line)
        guard isMethod(parts.first), let target = parts.second, !target.isEmpty, let versionText = parts.third,
              let minor = HTTP1Syntax.minorVersion(versionText)
        else {
            return HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x request line")
        }
        setRequest(method: parts.first, target: target, into: &fields)
        fields.minorVersion = minor
        return nil
    }

    private static func parseStatusLine(_ line: Bytes, into fields: inout Fields) -> HTTP1DecodeError? {
        let parts = StartLineParts(line)
        guard let minor = HTTP1Syntax.minorVersion(parts.first),
              let codeText = parts.second, codeText.count == 3, let code = HTTP1Syntax.decimal(codeText), code >= 100
        else {
            return HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x status line")
        }
        fields.minorVersion = minor
        fields.statusCode = code
        fields.reason = parts.third.map(field) ?? Int32(line.endIndex)..<Int32(line.endIndex)
        return nil
    }

    /// What a start line without its end still says: the method and the start of the
    /// target, or the status code. False when it says neither.
    private static func partialStartLine(_ line: Bytes, kind: HTTP1Decoder.Kind, into fields: inout Fields) -> Bool {
        let line = withoutCR(line)
        switch kind {
        case .request:
            let parts = StartLineParts(line)
            guard isMethod(parts.first), let target = parts.second, !target.isEmpty else { return false }
            setRequest(method: parts.first, target: target, into: &fields)
            fields.minorVersion = parts.third.flatMap(HTTP1Syntax.minorVersion) ?? UInt8(ascii: "1")
            return true
        case .response:
            let statusPrefix = line.prefix(12)
            guard statusPrefix.count == 12, statusPrefix.last.map(HTTP1Syntax.isDigit) == true else { return false }
            return parseStatusLine(statusPrefix, into: &fields) == nil
        }
    }

    /// A header line's name and trimmed value; nil for an obs-fold continuation (a header
    /// Periscope does not read), an error for a line without a valid name. The name is
    /// checked and its end found in one scan: a name is tokens up to the colon.
    static func header(_ line: Bytes) -> Result<(name: Bytes, value: Bytes), HTTP1DecodeError>? {
        guard let first = line.first else { return nil }
        if first == HTTP1Syntax.space || first == HTTP1Syntax.tab { return nil }
        var colon = line.startIndex
        while colon < line.endIndex, HTTP1Syntax.isTokenByte(line.base[colon]) { colon += 1 }
        guard colon > line.startIndex, colon < line.endIndex, line.base[colon] == HTTP1Syntax.colon else {
            return .failure(HTTP1DecodeError(.invalidHeader, "header line without a valid name"))
        }
        return .success((line[..<colon], HTTP1Syntax.trimmed(line[(colon + 1)...])))
    }

    /// Reads one header line into `fields`; returns an error for a malformed line.
    static func apply(headerLine line: Bytes, to fields: inout Fields) -> HTTP1DecodeError? {
        let (name, value): (Bytes, Bytes)
        switch header(line) {
        case nil: return nil
        case .failure(let error): return error
        case .success(let header): (name, value) = header
        }
        guard let known = HTTP1HeaderName(name) else { return nil }
        switch known {
        case .host: if fields.host == nil { fields.host = field(value) }
        case .userAgent: if fields.userAgent == nil { fields.userAgent = field(value) }
        case .traceparent: if fields.traceparent == nil { fields.traceparent = field(value) }
        case .transferEncoding:
            // Repeats join as one list: the last coding is the last line's.
            fields.hasTransferEncoding = true
            fields.isChunked = lastElement(value).map(isChunked) ?? false
        case .connection: break
        case .upgrade: if fields.upgradeProtocol == nil, let first = firstElement(value) { fields.upgradeProtocol = field(first) }
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

    /// The last element of a comma-separated list, untrimmed; nil when there is none.
    private static func lastElement(_ value: Bytes) -> Bytes? {
        value.split(separator: UInt8(ascii: ",")).last
    }

    /// The first element of a comma-separated list that is not empty once trimmed.
    private static func firstElement(_ value: Bytes) -> Bytes? {
        value.split(separator: UInt8(ascii: ",")).lazy.map { HTTP1Syntax.trimmed($0) }.first { !$0.isEmpty }
    }

    private static func isChunked(_ coding: Bytes) -> Bool {
        let coding = HTTP1Syntax.trimmed(coding)
        return coding.count == 7 && zip(coding, "chunked".utf8).allSatisfy { $0 | 0x20 == $1 }
    }

    static func withoutCR(_ line: Bytes) -> Bytes {
        line.last == HTTP1Syntax.cr ? line.dropLast() : line
    }
}
