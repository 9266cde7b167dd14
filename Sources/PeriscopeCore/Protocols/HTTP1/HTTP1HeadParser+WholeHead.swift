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
            return parseWholeHead(base, limit: min(buffer.count, HTTP1Decoder.maxHeadSize), kind: kind, into: &fields)
        }
    }

    /// The same for the bytes at `base[0..<limit]`.
    @inline(__always)
    static func parseWholeHead(_ base: UnsafePointer<UInt8>, limit: Int, kind: HTTP1Decoder.Kind, into fields: inout Fields) -> Int? {
        guard let firstNewline = newline(base, from: 0, limit: limit) else { return nil }
        let firstEnd = firstNewline > 0 && base[firstNewline &- 1] == HTTP1Syntax.cr ? firstNewline &- 1 : firstNewline
        guard parseStartLine(base, 0, firstEnd, kind: kind, into: &fields) == nil, startsCleanly(fields, kind: kind) else { return nil }
        var lineStart = firstNewline &+ 1
        fields.headerStart = Int32(truncatingIfNeeded: lineStart)
        while lineStart < limit {
            let start = lineStart
            let first = base[start]
            // The empty line that ends the head (a line starting with a CR not followed by
            // LF has no valid name: the line-by-line path reports it).
            if first == HTTP1Syntax.cr || first == HTTP1Syntax.lf {
                let end = first == HTTP1Syntax.lf ? start &+ 1 : start &+ 2
                guard first == HTTP1Syntax.lf || end <= limit && base[start &+ 1] == HTTP1Syntax.lf else { return nil }
                fields.end = Int32(truncatingIfNeeded: end)
                return end
            }
            // A header Periscope reads, known by its name's first four bytes and length (a
            // name of letters and dashes: tokens), then its value up to the line's end.
            if let (known, colon) = knownName(base, start, limit: limit) {
                guard let lineEnd = newline(base, from: colon &+ 1, limit: limit) else { return nil }
                let end = base[lineEnd &- 1] == HTTP1Syntax.cr ? lineEnd &- 1 : lineEnd
                lineStart = lineEnd &+ 1
                guard apply(known, base, colon: colon, end, to: &fields) == nil else { return nil }
                continue
            }
            // Any other header line: a name of tokens and its colon, then the value up to the
            // line's end. Anything else (obs-fold, a line without a valid name) goes line by line.
            if let colon = nameColon(base, start, limit: limit) {
                guard let lineEnd = newline(base, from: colon &+ 1, limit: limit) else { return nil }
                lineStart = lineEnd &+ 1
                // With a word to read, `knownName` knows every name Periscope reads: not this one.
                if start &+ 8 <= limit { continue }
                let end = base[lineEnd &- 1] == HTTP1Syntax.cr ? lineEnd &- 1 : lineEnd
                guard applyHeader(base, start, colon: colon, end, to: &fields) == nil else { return nil }
                continue
            }
            guard let lineEnd = newline(base, from: start, limit: limit) else { return nil }
            let end = base[lineEnd &- 1] == HTTP1Syntax.cr ? lineEnd &- 1 : lineEnd
            lineStart = lineEnd &+ 1
            guard applyHeader(base, start, end, to: &fields) == nil else { return nil }
        }
        return nil
    }

    /// The header Periscope reads whose name starts at `start`, and its colon: the name's
    /// first four bytes, in any case, pick the one candidate, whose length and bytes are then
    /// compared. Nil for any other line, or one too close to `limit` to read by word.
    @inline(__always)
    static func knownName(_ base: UnsafePointer<UInt8>, _ start: Int, limit: Int) -> (HTTP1HeaderName, Int)? {
        guard start &+ 8 <= limit else { return nil }
        // Every known name starts with four letters, which OR-ing 0x20 lowercases (and maps
        // no other byte onto a lowercase letter).
        let count: Int
        switch UnsafeRawPointer(base + start).loadUnaligned(as: UInt32.self) | 0x2020_2020 {
        case 0x7473_6f68: count = 4  // "host"
        case 0x746e_6f63: count = 14  // "cont": Content-Length
        case 0x6e6e_6f63: count = 10  // "conn": Connection
        case 0x6361_7274: count = 11  // "trac": traceparent
        case 0x7265_7375: count = 10  // "user": User-Agent
        case 0x6e61_7274: count = 17  // "tran": Transfer-Encoding
        case 0x7267_7075: count = 7  // "upgr": Upgrade
        default: return nil
        }
        let colon = start &+ count
        guard colon < limit, base[colon] == HTTP1Syntax.colon, let known = HTTP1HeaderName(base + start, count: count) else { return nil }
        return (known, colon)
    }

    /// What `HTTP1Decoder` checks of a start line's first bytes as they arrive, beyond what
    /// `parseStartLine` checked: a request's method is at most 32 bytes. (A start line
    /// `parseStartLine` accepts starts with a method of tokens and a space, or with `HTTP/`.)
    @inline(__always)
    private static func startsCleanly(_ fields: Fields, kind: HTTP1Decoder.Kind) -> Bool {
        kind == .response || fields.methodBytes.upperBound &- fields.methodBytes.lowerBound <= 32
    }

    /// The index of the next LF in `base[start..<limit]`; nil when there is none, or a byte a
    /// head may not hold comes first. A word at a time: a word of printable ASCII (the most of
    /// every line) costs one test, whose first lane found outside is exact; when that lane
    /// holds the usual CR LF or a bare LF, the line ends there; anything else (tab, obs-text,
    /// a lone CR, a CR whose LF is in the next word) is looked at byte by byte to the word's end.
    @inline(__always)
    static func newline(_ base: UnsafePointer<UInt8>, from start: Int, limit: Int) -> Int? {
        let raw = UnsafeRawPointer(base)
        var index = start
        while index &+ 8 <= limit {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let outside = HTTP1Syntax.lanesOutsidePrintable(word)
            guard outside != 0 else {
                index &+= 8
                continue
            }
            // The first lane outside (bit 7 of its byte) in the low bits.
            let shift = UInt64(truncatingIfNeeded: outside.trailingZeroBitCount &- 7)
            let lane = Int(truncatingIfNeeded: shift &>> 3)
            let bytes = word &>> shift
            if bytes & 0xff == UInt64(HTTP1Syntax.lf) { return index &+ lane }
            if bytes & 0xffff == 0x0a0d { return index &+ lane &+ 1 }
            let wordEnd = index &+ 8
            index &+= lane
            while index < wordEnd {
                let byte = base[index]
                if byte == HTTP1Syntax.lf { return index }
                guard HTTP1Syntax.isAllowedInHead(byte) else { return nil }
                index &+= 1
            }
        }
        while index < limit {
            let byte = base[index]
            if byte == HTTP1Syntax.lf { return index }
            guard HTTP1Syntax.isAllowedInHead(byte) else { return nil }
            index &+= 1
        }
        return nil
    }
}
