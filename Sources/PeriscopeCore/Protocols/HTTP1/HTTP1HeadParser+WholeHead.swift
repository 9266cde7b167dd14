extension HTTP1HeadParser {
    /// A whole head at the start of `bytes`, read in one pass: each line is found and checked
    /// for bytes a head may not hold eight bytes at a time, then read where it lies, no string
    /// made. Returns the head (offsets from the start of `bytes`) and
    /// its length, terminators included; nil when the head is cut short, larger than
    /// `HTTP1Decoder.maxHeadSize`, or anything in it is not clean (a byte a head may not hold,
    /// a start line or header line the line-by-line path rejects): that path then reports
    /// exactly what is wrong. What it returns is what the line-by-line path would.
    static func parseWholeHead(_ bytes: ArraySlice<UInt8>, kind: HTTP1Decoder.Kind) -> (head: Fields, length: Int)? {
        bytes.withUnsafeBufferPointer { buffer -> (head: Fields, length: Int)? in
            guard let base = buffer.baseAddress else { return nil }
            let limit = min(buffer.count, HTTP1Decoder.maxHeadSize)
            guard let firstNewline = newline(in: buffer, from: 0, limit: limit) else { return nil }
            let firstEnd = firstNewline > 0 && base[firstNewline - 1] == HTTP1Syntax.cr ? firstNewline - 1 : firstNewline
            var fields = Fields()
            guard startsCleanly(buffer[0..<firstEnd], kind: kind),
                  parseStartLine(base, 0, firstEnd, kind: kind, into: &fields) == nil
            else { return nil }
            var lineStart = firstNewline + 1
            fields.headerStart = Int32(lineStart)
            while let lineEnd = newline(in: buffer, from: lineStart, limit: limit) {
                let end = lineEnd > lineStart && base[lineEnd - 1] == HTTP1Syntax.cr ? lineEnd - 1 : lineEnd
                let start = lineStart
                lineStart = lineEnd + 1
                if end == start {
                    fields.end = Int32(lineStart)
                    return (fields, lineStart)
                }
                guard applyHeader(base, start, end, to: &fields) == nil else { return nil }
            }
            return nil
        }
    }

    /// What `HTTP1Decoder` checks of a start line's first bytes as they arrive: a request
    /// starts with a method of at most 32 tokens and a space, a response with `HTTP/`.
    private static func startsCleanly(_ line: Bytes, kind: HTTP1Decoder.Kind) -> Bool {
        switch kind {
        case .response:
            return line.starts(with: "HTTP/".utf8)
        case .request:
            var index = line.startIndex
            let limit = min(line.endIndex, line.startIndex + 33)
            while index < limit, HTTP1Syntax.isTokenByte(line.base[index]) { index += 1 }
            return index > line.startIndex && index < limit && line.base[index] == HTTP1Syntax.space
        }
    }

    /// The index of the next LF in `buffer[start..<limit]`; nil when there is none, or a byte a
    /// head may not hold comes first. Eight bytes at a time while none is a control byte.
    private static func newline(in buffer: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        var index = start
        while index + 8 <= limit {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            // A byte below 0x20 (CR, LF and tab among them) or equal to 0x7f in the word.
            let below = (word &- 0x2020_2020_2020_2020) & ~word
            let delete = word ^ 0x7f7f_7f7f_7f7f_7f7f
            if (below | (delete &- 0x0101_0101_0101_0101) & ~delete) & 0x8080_8080_8080_8080 != 0 { break }
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
