extension HTTP1Decoder {
    mutating func startChunkedBody() {
        lineBuffer.removeAll(keepingCapacity: true)
        state = .chunkSize
    }

    /// Reads a `chunk-size [; extensions] CRLF` line; returns the index after the last
    /// byte consumed.
    mutating func consumeChunkSizeLine(
        _ bytes: ArraySlice<UInt8>, from start: Int, _ events: inout some HTTP1DecoderEventSink
    ) -> Int {
        guard let newline = bytes[start...].firstIndex(of: HTTP1Syntax.lf) else {
            lineBuffer.append(contentsOf: bytes[start...])
            if lineBuffer.count > Self.maxChunkLineSize {
                fail(&events, HTTP1DecodeError(.invalidChunk, "chunk-size line longer than \(Self.maxChunkLineSize) bytes"))
            }
            return bytes.endIndex
        }
        lineBuffer.append(contentsOf: bytes[start..<newline])
        defer { lineBuffer.removeAll(keepingCapacity: true) }
        guard lineBuffer.count <= Self.maxChunkLineSize, let size = chunkSize(HTTP1HeadParser.withoutCR(lineBuffer[...])) else {
            fail(&events, HTTP1DecodeError(.invalidChunk, "chunk-size line is not a hex size"))
            return newline + 1
        }
        state = size == 0 ? .trailers(size: 0) : .chunkData(remaining: size)
        return newline + 1
    }

    /// Hex digits (at most 15), optionally followed by whitespace and `;extensions`.
    private func chunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        let digits = line.prefix { HTTP1Syntax.hexValue($0) != nil }
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        let rest = HTTP1Syntax.trimmed(line[digits.endIndex...])
        guard rest.isEmpty || rest.first == HTTP1Syntax.semicolon,
              rest.allSatisfy(HTTP1Syntax.isAllowedInHead)
        else { return nil }
        return digits.reduce(0) { $0 << 4 | (HTTP1Syntax.hexValue($1) ?? 0) }
    }

    /// Accounts for the `gap` bytes that followed a captured prefix of `prefixLength` bytes
    /// with the kernel's walk of their chunk headers, then reads what of `tail` (the gap's
    /// last bytes) follows the walk. False, with nothing changed, when this decoder is not
    /// in a chunked body or the walk does not start where it puts the next chunk header.
    public mutating func skip(
        _ gap: Int, after prefixLength: Int, tail: ArraySlice<UInt8>, walk: ChunkWalk, into events: inout [HTTP1DecoderEvent]
    ) -> Bool {
        skip(gap, after: prefixLength, tail: tail, walk: walk, sink: &events)
    }

    /// The same, handing what it finds to `events` as it finds it.
    mutating func skip(
        _ gap: Int, after prefixLength: Int, tail: ArraySlice<UInt8>, walk: ChunkWalk, sink events: inout some HTTP1DecoderEventSink
    ) -> Bool {
        let moved = prefixLength + gap
        let dataBeforeAnchor: Int
        let expectedAnchor: Int
        switch state {
        case .chunkData(let remaining):
            (expectedAnchor, dataBeforeAnchor) = (prefixLength + remaining + 2, remaining)
        case .chunkDataEnd(let sawCR):
            (expectedAnchor, dataBeforeAnchor) = (prefixLength + (sawCR ? 1 : 2), 0)
        case .chunkSize:
            (expectedAnchor, dataBeforeAnchor) = (prefixLength - lineBuffer.count, 0)
        default:
            return false
        }
        let tailStart = moved - tail.count
        guard gap > 0, walk.anchor == expectedAnchor, walk.anchor < moved, walk.dataBytes >= 0,
              walk.dataBytes <= moved - walk.anchor, walk.end >= walk.anchor,
              walk.endsAtHeader ? walk.end <= moved : walk.end >= moved - 1
        else { return false }
        bodySize += dataBeforeAnchor + walk.dataBytes
        lineBuffer.removeAll(keepingCapacity: true)
        if walk.endsAtHeader {
            state = .chunkSize
            if walk.end >= tailStart {
                decode(tail[(tail.startIndex + walk.end - tailStart)...], sink: &events)
            } else {
                // The headers past the walk were not captured: the last chunk, or more data.
                bodySizeUnknown = true
                loseSync(&events, messageInProgress: true)
            }
        } else if walk.end >= moved {
            state = walk.end == moved ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: walk.end - moved)
        } else {
            state = .chunkDataEnd(sawCR: true)
        }
        return true
    }

    /// Reads trailer lines until the empty line that ends the message.
    mutating func consumeTrailers(
        _ bytes: ArraySlice<UInt8>, from start: Int, size: Int, _ events: inout some HTTP1DecoderEventSink
    ) -> Int {
        var index = start
        var size = size
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            size += 1
            guard HTTP1Syntax.isAllowedInHead(byte), size <= Self.maxTrailerSize else {
                fail(&events, HTTP1DecodeError(.invalidChunk, "trailer section is not a valid header block"))
                return index
            }
            if byte == HTTP1Syntax.lf {
                let lineIsEmpty = HTTP1HeadParser.withoutCR(lineBuffer[...]).isEmpty
                lineBuffer.removeAll(keepingCapacity: true)
                if lineIsEmpty {
                    endMessage(&events)
                    return index
                }
            } else {
                lineBuffer.append(byte)
            }
        }
        state = .trailers(size: size)
        return index
    }
}
