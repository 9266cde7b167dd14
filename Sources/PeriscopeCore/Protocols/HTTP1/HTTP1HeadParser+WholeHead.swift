extension HTTP1HeadParser {
    /// A whole head at the start of `bytes`, read in one pass: each line is found and checked
    /// for bytes a head may not hold eight or sixteen bytes at a time, then read where it lies,
    /// no string made. Reads the head into `fields` (offsets from the start of `bytes`; they
    /// start empty) and returns its length, terminators included; nil when the head is cut
    /// short, larger than `HTTP1Decoder.maxHeadSize`, or anything in it is not clean (a byte a
    /// head may not hold, a start line or header line the line-by-line path rejects): that path
    /// then reports exactly what is wrong. What it reads is what the line-by-line path would.
    static func parseWholeHead(_ bytes: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind, into fields: inout Fields) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            let limit = min(buffer.count, HTTP1Decoder.maxHeadSize)
            guard let firstNewline = newline(in: buffer, from: 0, limit: limit) else { return nil }
            let firstEnd = firstNewline > 0 && base[firstNewline - 1] == HTTP1Syntax.cr ? firstNewline - 1 : firstNewline
            guard parseStartLine(base, 0, firstEnd, kind: kind, into: &fields) == nil, startsCleanly(fields, kind: kind) else { return nil }
            var lineStart = firstNewline + 1
            fields.headerStart = Int32(lineStart)
            while lineStart < limit {
                let start = lineStart
                // The usual header line: a name of tokens and its colon, then the value up to
                // the line's end, each byte looked at once. Anything else goes line by line.
                if let colon = nameColon(base, start, limit: limit) {
                    guard let lineEnd = newline(in: buffer, from: colon + 1, limit: limit) else { return nil }
                    let end = base[lineEnd - 1] == HTTP1Syntax.cr ? lineEnd - 1 : lineEnd
                    lineStart = lineEnd + 1
                    guard applyHeader(base, start, colon: colon, end, to: &fields) == nil else { return nil }
                    continue
                }
                guard let lineEnd = newline(in: buffer, from: start, limit: limit) else { return nil }
                let end = lineEnd > start && base[lineEnd - 1] == HTTP1Syntax.cr ? lineEnd - 1 : lineEnd
                lineStart = lineEnd + 1
                if end == start {
                    fields.end = Int32(lineStart)
                    return lineStart
                }
                guard applyHeader(base, start, end, to: &fields) == nil else { return nil }
            }
            return nil
        }
    }

    /// What `HTTP1Decoder` checks of a start line's first bytes as they arrive, beyond what
    /// `parseStartLine` checked: a request's method is at most 32 bytes. (A start line
    /// `parseStartLine` accepts starts with a method of tokens and a space, or with `HTTP/`.)
    @inline(__always)
    private static func startsCleanly(_ fields: Fields, kind: HTTP1Decoder.Kind) -> Bool {
        kind == .response || fields.methodBytes.count <= 32
    }

    /// The index of the next LF in `buffer[start..<limit]`; nil when there is none, or a byte a
    /// head may not hold comes first. Sixteen bytes at a time while all are printable ASCII
    /// (one test of their words, no lane told apart), then a word at a time, each byte that is
    /// not printable looked at lane by lane.
    @inline(__always)
    static func newline(in buffer: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        var index = start
        while index + 16 <= limit,
              !HTTP1Syntax.hasBytesOutsidePrintable(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self),
                                                    raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)) {
            index += 16
        }
        while index + 8 <= limit {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            guard HTTP1Syntax.hasBytesOutsidePrintable(word) else {
                index += 8
                continue
            }
            let lf = HTTP1Syntax.lanes(of: word, equalTo: HTTP1Syntax.lf)
            // The lanes before the first LF (all of them when there is none) holding a control
            // byte or DEL: only CR and tab may.
            let first = lf & (0 &- lf)
            let control = (HTTP1Syntax.lanesBelowSpace(word) | HTTP1Syntax.lanes(of: word, equalTo: 0x7f)) & (first &- 1)
            if control != 0 {
                let newline = HTTP1Syntax.firstLane(lf)
                // The usual CR right before the LF, or else each control byte checked.
                if control != first >> 8 || base[index + newline - 1] != HTTP1Syntax.cr {
                    let allowed = HTTP1Syntax.lanes(of: word, equalTo: HTTP1Syntax.cr) | HTTP1Syntax.lanes(of: word, equalTo: HTTP1Syntax.tab)
                    guard control & ~allowed == 0 else { return nil }
                }
            }
            if lf != 0 { return index + HTTP1Syntax.firstLane(lf) }
            index += 8
        }
        while index < limit {
            let byte = base[index]
            if byte == HTTP1Syntax.lf { return index }
            guard HTTP1Syntax.isAllowedInHead(byte) else { return nil }
            index += 1
        }
        return nil
    }
}
