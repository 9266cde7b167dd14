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
        guard let base = line.base.baseAddress else { return parseStartLine(nil, 0, 0, kind: kind, into: &fields) }
        return parseStartLine(base, line.startIndex, line.endIndex, kind: kind, into: &fields)
    }

    /// The same for the line at `base[start..<end]` (offsets from the head's start).
    static func parseStartLine(
        _ base: UnsafePointer<UInt8>?, _ start: Int, _ end: Int, kind: HTTP1Decoder.Kind, into fields: inout Fields
    ) -> HTTP1DecodeError? {
        switch kind {
        case .request:
            guard let base, usualRequestLine(base, start, end, into: &fields) || requestLineByBytes(base, start, end, into: &fields) else {
                return HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x request line")
            }
            return nil
        case .response:
            guard let base, let code = statusLine(base, start, end, into: &fields) else {
                return HTTP1DecodeError(.invalidStartLine, "not an HTTP/1.x status line")
            }
            fields.statusCode = code
            return nil
        }
    }

    /// A request line: a method of tokens, a space, a target without spaces, a space and
    /// `HTTP/1.x`. False, `fields` untouched, for anything else. Byte by byte.
    static func requestLineByBytes(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into fields: inout Fields) -> Bool {
        guard let (methodEnd, targetEnd) = requestLineSpaces(base, start, end), targetEnd < end,
              let minor = minorVersion(base, targetEnd + 1, end)
        else { return false }
        setRequest(base, start, methodEnd, targetEnd, into: &fields)
        fields.minorVersion = minor
        return true
    }

    /// The usual request line, read by word: a method of capital letters and its space in the
    /// line's first eight bytes, a target without spaces, then a space and `HTTP/1.x` as the
    /// line's last nine bytes. False, `fields` untouched, for anything else, which
    /// `requestLineByBytes` then reads (what this accepts, that reads the same). Reads only
    /// the line's bytes.
    @inline(__always)
    static func usualRequestLine(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into fields: inout Fields) -> Bool {
        // The shortest request line: a method, a space, a target, a space and the version.
        guard end &- start >= 12 else { return false }
        let raw = UnsafeRawPointer(base)
        let first = raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)
        let version = raw.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self)
        let methodLength = HTTP1Syntax.firstLane(HTTP1Syntax.lanes(of: first, equalTo: HTTP1Syntax.space))
        let method = HTTP1Syntax.lanesBefore(methodLength)
        let targetStart = start &+ methodLength &+ 1
        let targetEnd = end &- 9
        guard methodLength > 0, methodLength < 8, HTTP1Syntax.lanesOfCapitals(first) & method == method,
              version & 0x00ff_ffff_ffff_ffff == 0x2e_312f_5054_5448, HTTP1Syntax.isDigit(UInt8(truncatingIfNeeded: version >> 56)),
              targetStart < targetEnd, base[targetEnd] == HTTP1Syntax.space, !hasSpace(base, targetStart, targetEnd)
        else { return false }
        fields.methodBytes = Int32(truncatingIfNeeded: start)..<Int32(truncatingIfNeeded: start &+ methodLength)
        fields.method = HTTP1Method.known(word: first & (1 &<< UInt64(methodLength &* 8) &- 1)) ?? .other
        fields.target = Int32(truncatingIfNeeded: targetStart)..<Int32(truncatingIfNeeded: targetEnd)
        fields.minorVersion = UInt8(truncatingIfNeeded: version >> 56)
        return true
    }

    /// Whether a space lies in `base[start..<end]`, read by word: eight bytes must be readable
    /// from every index below `end` (in a request line, the version follows).
    @inline(__always)
    static func hasSpace(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let raw = UnsafeRawPointer(base)
        var index = start
        while index < end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if HTTP1Syntax.lanes(of: word, equalTo: HTTP1Syntax.space) & HTTP1Syntax.lanesBefore(end &- index) != 0 { return true }
            index &+= 8
        }
        return false
    }

    /// Where a request line's method and target end: a method of tokens, a space, a target
    /// without spaces that is not empty. Nil when it does not start that way.
    private static func requestLineSpaces(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int)? {
        var index = start
        while index < end, base[index] != HTTP1Syntax.space {
            guard HTTP1Syntax.isTokenByte(base[index]) else { return nil }
            index += 1
        }
        guard index > start, index < end else { return nil }
        let methodEnd = index
        index += 1
        while index < end, base[index] != HTTP1Syntax.space { index += 1 }
        guard index > methodEnd + 1 else { return nil }
        return (methodEnd, index)
    }

    private static func setRequest(_ base: UnsafePointer<UInt8>, _ start: Int, _ methodEnd: Int, _ targetEnd: Int, into fields: inout Fields) {
        fields.methodBytes = Int32(start)..<Int32(methodEnd)
        fields.method = HTTP1Method(UnsafeBufferPointer(start: base + start, count: methodEnd - start))
        fields.target = Int32(methodEnd + 1)..<Int32(targetEnd)
    }

    /// `HTTP/1.x` exactly at `base[start..<end]`: the minor version digit.
    private static func minorVersion(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> UInt8? {
        guard end - start == 8 else { return nil }
        let prefix = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self) & 0x00ff_ffff_ffff_ffff
        let expected: UInt64 = 0x2e_312f_5054_5448  // "HTTP/1." little-endian
        let minor = base[start + 7]
        return prefix == expected && HTTP1Syntax.isDigit(minor) ? minor : nil
    }

    /// A status line: `HTTP/1.x`, a space, three digits from 100, then the end or a space
    /// and the reason. The code, with the version and reason set in `fields`.
    static func statusLine(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into fields: inout Fields) -> Int? {
        usualStatusLine(base, start, end, into: &fields) ?? statusLineByBytes(base, start, end, into: &fields)
    }

    /// The same, byte by byte.
    static func statusLineByBytes(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into fields: inout Fields) -> Int? {
        var space = start
        while space < end, base[space] != HTTP1Syntax.space { space += 1 }
        guard let minor = minorVersion(base, start, space) else { return nil }
        var codeEnd = space + 1
        while codeEnd < end, base[codeEnd] != HTTP1Syntax.space { codeEnd += 1 }
        guard space < end, codeEnd - space - 1 == 3 else { return nil }
        var code = 0
        for index in (space + 1)..<codeEnd {
            guard HTTP1Syntax.isDigit(base[index]) else { return nil }
            code = code * 10 + Int(base[index] - UInt8(ascii: "0"))
        }
        guard code >= 100 else { return nil }
        fields.minorVersion = minor
        fields.reason = codeEnd < end ? Int32(codeEnd + 1)..<Int32(end) : Int32(end)..<Int32(end)
        return code
    }

    /// The usual status line, read by word: `HTTP/1.x`, a space, three digits from 100, then
    /// the end or a space. Nil for anything else, which `statusLine` then reads byte by byte
    /// (what this accepts, that reads the same).
    @inline(__always)
    static func usualStatusLine(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into fields: inout Fields) -> Int? {
        guard end - start >= 12 else { return nil }
        let raw = UnsafeRawPointer(base + start)
        let version = raw.loadUnaligned(as: UInt64.self)
        // The space and the code's digits in the lanes of a word of four: " ddd".
        let code = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let digits = code &- 0x3030_3000
        guard version & 0x00ff_ffff_ffff_ffff == 0x2e_312f_5054_5448, HTTP1Syntax.isDigit(UInt8(truncatingIfNeeded: version >> 56)),
              code & 0xff == UInt32(HTTP1Syntax.space), end - start == 12 || base[start + 12] == HTTP1Syntax.space,
              // Each of the three lanes 0–9 once '0' is taken away: no borrow, nothing above 9.
              code & 0xf0f0_f000 == 0x3030_3000, (digits &+ 0x0606_0600) & 0xf0f0_f000 == 0
        else { return nil }
        let value = Int(digits >> 8 & 0xff) * 100 + Int(digits >> 16 & 0xff) * 10 + Int(digits >> 24)
        guard value >= 100 else { return nil }
        fields.minorVersion = UInt8(truncatingIfNeeded: version >> 56)
        fields.reason = end - start > 12 ? Int32(start + 13)..<Int32(end) : Int32(end)..<Int32(end)
        return value
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

    /// What a start line without its end still says: the method and the start of the
    /// target, or the status code. False when it says neither.
    private static func partialStartLine(_ line: Bytes, kind: HTTP1Decoder.Kind, into fields: inout Fields) -> Bool {
        let line = withoutCR(line)
        switch kind {
        case .request:
            let parts = StartLineParts(line)
            guard isMethod(parts.first), let target = parts.second, !target.isEmpty, let base = line.base.baseAddress
            else { return false }
            setRequest(base, parts.first.startIndex, parts.first.endIndex, target.endIndex, into: &fields)
            fields.minorVersion = parts.third.flatMap(HTTP1Syntax.minorVersion) ?? UInt8(ascii: "1")
            return true
        case .response:
            let statusPrefix = line.prefix(12)
            guard statusPrefix.count == 12, statusPrefix.last.map(HTTP1Syntax.isDigit) == true else { return false }
            guard let base = line.base.baseAddress, let code = statusLine(base, statusPrefix.startIndex, statusPrefix.endIndex, into: &fields)
            else { return false }
            fields.statusCode = code
            return true
        }
    }

    /// A header line's name and trimmed value; nil for an obs-fold continuation (a header
    /// Periscope does not read), an error for a line without a valid name. The name is
    /// checked and its end found in one scan: a name is tokens up to the colon.
    static func header(_ line: Bytes) -> Result<(name: Bytes, value: Bytes), HTTP1DecodeError>? {
        guard let base = line.base.baseAddress else { return nil }
        switch header(base, line.startIndex, line.endIndex) {
        case nil: return nil
        case .failure(let error): return .failure(error)
        case .success(let (colon, valueStart, valueEnd)):
            return .success((line.base[line.startIndex..<colon], line.base[valueStart..<valueEnd]))
        }
    }

    /// The same for the line at `base[start..<end]`: where its colon is and its trimmed value lies.
    @inline(__always)
    static func header(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Result<(Int, Int, Int), HTTP1DecodeError>? {
        guard start < end else { return nil }
        if base[start] == HTTP1Syntax.space || base[start] == HTTP1Syntax.tab { return nil }
        guard let colon = nameColon(base, start, limit: end) else {
            return .failure(HTTP1DecodeError(.invalidHeader, "header line without a valid name"))
        }
        let (valueStart, valueEnd) = trimmedValue(base, colon + 1, end)
        return .success((colon, valueStart, valueEnd))
    }

    /// The colon that ends the header name starting at `start`, before `limit`: nil when the
    /// name is empty or a byte before the first colon is not a token. Eight bytes at a time
    /// while they are letters and `-`; byte by byte from a word holding anything else.
    @inline(__always)
    static func nameColon(_ base: UnsafePointer<UInt8>, _ start: Int, limit: Int) -> Int? {
        var index = start
        while index + 8 <= limit {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let other = ~HTTP1Syntax.lanesOfNameBytes(word) & HTTP1Syntax.highBits
            guard other == 0 else {
                index += HTTP1Syntax.firstLane(other)
                // The usual end: the colon right after letters and dashes.
                if base[index] == HTTP1Syntax.colon { return index > start ? index : nil }
                break
            }
            index += 8
        }
        while index < limit, HTTP1Syntax.isTokenByte(base[index]) { index += 1 }
        guard index > start, index < limit, base[index] == HTTP1Syntax.colon else { return nil }
        return index
    }

    /// `base[start..<end]` without leading and trailing spaces and tabs.
    @inline(__always)
    static func trimmedValue(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int) {
        var valueStart = start
        var valueEnd = end
        while valueStart < valueEnd, base[valueStart] == HTTP1Syntax.space || base[valueStart] == HTTP1Syntax.tab { valueStart &+= 1 }
        while valueEnd > valueStart, base[valueEnd &- 1] == HTTP1Syntax.space || base[valueEnd &- 1] == HTTP1Syntax.tab { valueEnd &-= 1 }
        return (valueStart, valueEnd)
    }

    /// Reads one header line into `fields`; returns an error for a malformed line.
    static func apply(headerLine line: Bytes, to fields: inout Fields) -> HTTP1DecodeError? {
        guard let base = line.base.baseAddress else { return nil }
        return applyHeader(base, line.startIndex, line.endIndex, to: &fields)
    }

    /// The same for the line at `base[start..<end]` (offsets from the head's start).
    static func applyHeader(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, to fields: inout Fields) -> HTTP1DecodeError? {
        guard start < end else { return nil }
        if base[start] == HTTP1Syntax.space || base[start] == HTTP1Syntax.tab {
            return nil  // obs-fold continuation of a header Periscope does not read
        }
        guard let colon = nameColon(base, start, limit: end) else {
            return HTTP1DecodeError(.invalidHeader, "header line without a valid name")
        }
        return applyHeader(base, start, colon: colon, end, to: &fields)
    }

    /// The same for a line whose name was read: `base[start..<colon]` is its name.
    @inline(__always)
    static func applyHeader(
        _ base: UnsafePointer<UInt8>, _ start: Int, colon: Int, _ end: Int, to fields: inout Fields
    ) -> HTTP1DecodeError? {
        guard let known = HTTP1HeaderName(base + start, count: colon - start) else { return nil }
        return apply(known, base, colon: colon, end, to: &fields)
    }

    /// The same for a line whose name is `known`, its colon at `colon`. Inlined in the loop
    /// over a whole head's lines: a call and its checks cost as much as the usual value.
    @inline(__always)
    static func apply(
        _ known: HTTP1HeaderName, _ base: UnsafePointer<UInt8>, colon: Int, _ end: Int, to fields: inout Fields
    ) -> HTTP1DecodeError? {
        if known == .connection { return nil }  // named so that it is known, its value not read
        let (valueStart, valueEnd) = trimmedValue(base, colon &+ 1, end)
        // Offsets in a head, at most `HTTP1Decoder.maxHeadSize`, the start not after the end.
        let range = Range(uncheckedBounds: (Int32(truncatingIfNeeded: valueStart), Int32(truncatingIfNeeded: valueEnd)))
        switch known {
        case .host: if fields.host == nil { fields.host = range }
        case .userAgent: if fields.userAgent == nil { fields.userAgent = range }
        case .traceparent: if fields.traceparent == nil { fields.traceparent = range }
        case .connection: break
        case .contentLength:
            // The usual single value read where it lies; lists and repeats as `applyListHeader` reads them.
            if let length = decimal(base, valueStart, valueEnd), fields.contentLength == nil || fields.contentLength == length {
                fields.contentLength = length
                return nil
            }
            return applyListHeader(known, UnsafeBufferPointer(start: base, count: end)[valueStart..<valueEnd], to: &fields)
        case .transferEncoding, .upgrade:
            return applyListHeader(known, UnsafeBufferPointer(start: base, count: end)[valueStart..<valueEnd], to: &fields)
        }
        return nil
    }

    /// `HTTP1Syntax.decimal` of `base[start..<end]`: decimal digits only, at most 18 of them.
    @inline(__always)
    static func decimal(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        guard start < end, end &- start <= 18 else { return nil }
        var value = 0
        var index = start
        while index < end {
            let digit = base[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int(digit)
            index &+= 1
        }
        return value
    }

    /// The headers whose values are lists.
    private static func applyListHeader(_ name: HTTP1HeaderName, _ value: Bytes, to fields: inout Fields) -> HTTP1DecodeError? {
        switch name {
        case .transferEncoding:
            // Repeats join as one list: the last coding is the last line's.
            fields.hasTransferEncoding = true
            fields.isChunked = lastElement(value).map(isChunked) ?? false
        case .upgrade:
            if fields.upgradeProtocol == nil, let first = firstElement(value) { fields.upgradeProtocol = field(first) }
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
        default:
            break
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
