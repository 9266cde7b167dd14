/// Reads the frames of one direction of an HTTP/2 connection from the bytes of successive
/// reads or writes, however they cut the frames, and hands out what matters to spans one
/// event at a time (`next`). DATA payloads are handed out in place, padding removed; a
/// header block is gathered across HEADERS/PUSH_PROMISE and CONTINUATION frames into one
/// bounded buffer; control frames are checked against RFC 9113 and read for the few values
/// that matter. A frame that breaks the rules is reported and skipped by its length.
///
/// Bytes the capture missed are skipped by length inside a frame; when they cover a frame
/// header the reader has lost its place and waits for a read or write that starts with a
/// believable frame (`resynchronize`).
struct HTTP2FrameReader: Sendable {
    enum Event: Sendable, Equatable {
        /// The client connection preface was read.
        case preface
        /// Part of a DATA frame's payload (padding excluded): `bytes` captured then
        /// `uncaptured` more.
        case data(streamID: UInt32, bytes: ArraySlice<UInt8>, uncaptured: Int)
        /// A DATA frame with END_STREAM ended.
        case dataEndStream(streamID: UInt32)
        /// A complete header block of HEADERS (+ CONTINUATION).
        case headers(streamID: UInt32, endStream: Bool, block: ArraySlice<UInt8>)
        /// A complete header block of PUSH_PROMISE (+ CONTINUATION).
        case pushPromise(streamID: UInt32, promisedStreamID: UInt32, block: ArraySlice<UInt8>)
        /// A header block ended whose bytes were not all captured or exceeded
        /// `maxHeaderBlockSize`: the HPACK table can no longer be trusted.
        case headerBlockLost(streamID: UInt32, endStream: Bool, reason: String)
        case resetStream(streamID: UInt32, errorCode: UInt32)
        /// SETTINGS (or its ACK), with SETTINGS_HEADER_TABLE_SIZE when present.
        case settings(ack: Bool, headerTableSize: Int?)
        case goAway(lastStreamID: UInt32, errorCode: UInt32)
        /// A frame or preface that breaks the rules; `reason` is a stable token.
        case invalid(reason: String)
        /// Bytes were lost where a frame header was: nothing is read until `resynchronize`.
        case lostSync
    }

    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// The largest header block (compressed) gathered; a larger one is lost.
    static let maxHeaderBlockSize = 65_536
    /// The largest control frame payload read (SETTINGS lists); larger ones are skipped.
    static let maxControlPayload = 4_096

    enum State: Sendable, Equatable {
        case preface(matched: Int)
        case frameHeader
        case payload
        case lostSync
    }

    private(set) var state: State
    /// The frame being read and how far into its payload.
    private var frame = HTTP2FrameHeader(length: 0, type: 0, flags: 0, streamID: 0)
    private var offset = 0
    /// Bytes before the content (pad length, priority fields, promised stream id) and,
    /// once they are read, where the content ends (padding follows).
    private var prefixSize = 0
    private var contentEnd = 0
    /// Whether the frame is skipped (invalid or of no interest).
    private var skipping = false
    /// The frame header being read, or a frame's prefix or control payload.
    private var small: [UInt8] = []
    /// The header block being gathered and what it belongs to.
    private var block: [UInt8] = []
    private var blockOpen = false
    private var blockStreamID: UInt32 = 0
    private var blockEndStream = false
    private var blockPromisedStreamID: UInt32?
    private var blockLostReason: String?

    /// `expectingPreface` on the client's stream of a connection seen from its start.
    init(expectingPreface: Bool) {
        state = expectingPreface ? .preface(matched: 0) : .frameHeader
        small.reserveCapacity(16)
    }

    /// Whether a header block is being gathered (a CONTINUATION must follow).
    var isInHeaderBlock: Bool { blockOpen }

    /// After lost sync: resumes at `bytes`, the start of a read or write, when they begin
    /// with believable frames. True when it did.
    mutating func resynchronize(at bytes: ArraySlice<UInt8>) -> Bool {
        guard state == .lostSync, HTTP2Decoder.startsWithFrames(bytes) else { return false }
        state = .frameHeader
        small.removeAll(keepingCapacity: true)
        return true
    }

    /// After lost sync inside a read or write: resumes at the last whole frames of `tail`, its
    /// last bytes, when at least two believable frames end exactly where it ends (the end of a
    /// write is the end of a frame for the peers seen; one frame alone is too easily met by
    /// chance in a body). True when it did.
    mutating func resynchronize(atEndOf tail: inout ArraySlice<UInt8>) -> Bool {
        guard state == .lostSync, let start = Self.lastFramesStart(tail) else { return false }
        tail = tail[start...]
        state = .frameHeader
        small.removeAll(keepingCapacity: true)
        return true
    }

    /// The first offset in `bytes` from which believable frames follow each other up to
    /// exactly their end, at least two of them.
    static func lastFramesStart(_ bytes: ArraySlice<UInt8>) -> Int? {
        var start = bytes.startIndex
        while bytes.endIndex - start >= 2 * HTTP2FrameHeader.size {
            var position = start
            var frames = 0
            while bytes.endIndex - position >= HTTP2FrameHeader.size {
                let header = bytes[position..<position + HTTP2FrameHeader.size]
                guard HTTP2FrameHeader.isPlausible(header) else { break }
                position += HTTP2FrameHeader.size + HTTP2FrameHeader(header).length
                frames += 1
            }
            if position == bytes.endIndex, frames >= 2 { return start }
            start += 1
        }
        return nil
    }

    /// The next event from `input` (consumed as it is read), then from the `gap` bytes the
    /// capture missed after it; nil once both are used up.
    mutating func next(_ input: inout ArraySlice<UInt8>, gap: inout Int) -> Event? {
        while true {
            if let header = pendingAfterBlock {
                pendingAfterBlock = nil
                if let event = admit(header) { return event }
                continue
            }
            if state == .payload, offset == frame.length {
                state = .frameHeader
                if let event = endFrame() { return event }
                continue
            }
            if input.isEmpty {
                guard gap > 0 else { return nil }
                return skipGap(&gap)
            }
            switch state {
            case .lostSync:
                input = input[input.endIndex...]
            case .preface(let matched):
                let count = min(Self.preface.count - matched, input.count)
                guard input.prefix(count).elementsEqual(Self.preface[matched..<matched + count]) else {
                    state = .lostSync
                    input = input[input.endIndex...]
                    return .invalid(reason: "invalid_preface")
                }
                input = input.dropFirst(count)
                if matched + count == Self.preface.count {
                    state = .frameHeader
                    return .preface
                }
                state = .preface(matched: matched + count)
            case .frameHeader:
                let header: HTTP2FrameHeader
                if small.isEmpty, input.count >= HTTP2FrameHeader.size {
                    header = HTTP2FrameHeader(input)
                    input = input.dropFirst(HTTP2FrameHeader.size)
                } else {
                    let count = min(HTTP2FrameHeader.size - small.count, input.count)
                    small.append(contentsOf: input.prefix(count))
                    input = input.dropFirst(count)
                    guard small.count == HTTP2FrameHeader.size else { continue }
                    header = HTTP2FrameHeader(small[...])
                }
                small.removeAll(keepingCapacity: true)
                if let event = beginFrame(header) { return event }
            case .payload:
                if let event = readPayload(&input) { return event }
            }
        }
    }

    /// Starts reading a frame's payload; an event when the frame is refused.
    private mutating func beginFrame(_ header: HTTP2FrameHeader) -> Event? {
        if !blockOpen { block.removeAll(keepingCapacity: true) }
        if blockOpen, header.kind != .continuation || header.streamID != blockStreamID {
            // RFC 9113 §6.10: nothing may come between a block's frames. The frame is read
            // once the lost block is reported.
            blockLostReason = "expected_continuation"
            pendingAfterBlock = header
            return endBlock()
        }
        return admit(header)
    }

    /// A frame that arrived while a block was open, read once the block's loss is reported.
    private var pendingAfterBlock: HTTP2FrameHeader?

    private mutating func admit(_ header: HTTP2FrameHeader) -> Event? {
        frame = header
        offset = 0
        state = .payload
        skipping = false
        prefixSize = 0
        contentEnd = header.length
        if let violation = header.violation {
            skipping = true
            switch header.kind {
            case .headers, .pushPromise, .continuation:
                // The encoder compressed a block here: the table can no longer be trusted.
                return .headerBlockLost(streamID: header.streamID, endStream: false, reason: violation)
            default:
                return .invalid(reason: violation)
            }
        }
        switch header.kind {
        case .data:
            prefixSize = header.has(HTTP2FrameHeader.Flag.padded) ? 1 : 0
        case .headers:
            prefixSize = (header.has(HTTP2FrameHeader.Flag.padded) ? 1 : 0) + (header.has(HTTP2FrameHeader.Flag.priority) ? 5 : 0)
            openBlock(header.streamID, endStream: header.has(HTTP2FrameHeader.Flag.endStream))
        case .pushPromise:
            prefixSize = (header.has(HTTP2FrameHeader.Flag.padded) ? 1 : 0) + 4
            openBlock(header.streamID, endStream: false)
        case .continuation:
            guard blockOpen else {
                skipping = true
                return .headerBlockLost(streamID: header.streamID, endStream: false, reason: "unexpected_continuation")
            }
        case .settings, .goAway, .resetStream:
            if header.length > Self.maxControlPayload {
                skipping = true
                return .invalid(reason: "control_frame_too_large")
            }
        case .priority, .ping, .windowUpdate, nil:
            skipping = true
        }
        guard prefixSize <= header.length else {
            skipping = true
            prefixSize = 0
            if blockOpen { blockLostReason = "invalid_padding" }
            return header.kind == .data ? .invalid(reason: "invalid_padding") : nil
        }
        contentEnd = prefixSize == 0 ? header.length : -1
        return nil
    }

    private mutating func openBlock(_ streamID: UInt32, endStream: Bool) {
        blockOpen = true
        blockStreamID = streamID
        blockEndStream = endStream
        blockPromisedStreamID = nil
        blockLostReason = nil
        block.removeAll(keepingCapacity: true)
    }

    private mutating func readPayload(_ input: inout ArraySlice<UInt8>) -> Event? {
        if offset < prefixSize {
            let count = min(prefixSize - offset, input.count)
            small.append(contentsOf: input.prefix(count))
            input = input.dropFirst(count)
            offset += count
            if offset == prefixSize { return endPrefix() }
            return nil
        }
        let count = min(contentEnd - offset, input.count)
        if count > 0 {
            let content = input.prefix(count)
            input = input.dropFirst(count)
            offset += count
            if !skipping { return takeContent(content) }
            return nil
        }
        // Padding.
        let padding = min(frame.length - offset, input.count)
        input = input.dropFirst(padding)
        offset += padding
        return nil
    }

    /// The prefix is read: pad length and promised stream id are known.
    private mutating func endPrefix() -> Event? {
        let padded = frame.has(HTTP2FrameHeader.Flag.padded)
        let padLength = padded ? Int(small[0]) : 0
        if frame.kind == .pushPromise {
            let start = padded ? 1 : 0
            blockPromisedStreamID = UInt32(small[start] & 0x7f) << 24 | UInt32(small[start + 1]) << 16
                | UInt32(small[start + 2]) << 8 | UInt32(small[start + 3])
        }
        small.removeAll(keepingCapacity: true)
        guard prefixSize + padLength <= frame.length else {
            skipping = true
            contentEnd = frame.length
            if blockOpen { blockLostReason = "invalid_padding" }
            return frame.kind == .data ? .invalid(reason: "invalid_padding") : nil
        }
        contentEnd = frame.length - padLength
        return nil
    }

    private mutating func takeContent(_ content: ArraySlice<UInt8>) -> Event? {
        switch frame.kind {
        case .data:
            return .data(streamID: frame.streamID, bytes: content, uncaptured: 0)
        case .headers, .pushPromise, .continuation:
            if blockLostReason == nil {
                if block.count + content.count > Self.maxHeaderBlockSize {
                    blockLostReason = "header_block_too_large"
                    block.removeAll(keepingCapacity: true)
                } else {
                    block.append(contentsOf: content)
                }
            }
        default:
            small.append(contentsOf: content)
        }
        return nil
    }

    /// The frame's last byte was read.
    private mutating func endFrame() -> Event? {
        defer { small.removeAll(keepingCapacity: true) }
        guard let kind = frame.kind else { return nil }
        if kind == .headers || kind == .pushPromise || kind == .continuation, blockOpen, frame.streamID == blockStreamID,
           frame.has(HTTP2FrameHeader.Flag.endHeaders) {
            return endBlock()
        }
        guard !skipping else { return nil }
        switch kind {
        case .data:
            return frame.has(HTTP2FrameHeader.Flag.endStream) ? .dataEndStream(streamID: frame.streamID) : nil
        case .headers, .pushPromise, .continuation:
            return nil
        case .resetStream:
            guard small.count == 4 else { return nil }
            return .resetStream(streamID: frame.streamID, errorCode: Self.uint32(small, at: 0))
        case .goAway:
            guard small.count >= 8 else { return nil }
            return .goAway(lastStreamID: Self.uint32(small, at: 0) & 0x7fff_ffff, errorCode: Self.uint32(small, at: 4))
        case .settings:
            var headerTableSize: Int?
            for start in stride(from: 0, to: small.count - 5, by: 6) where small[start] == 0 && small[start + 1] == 0x1 {
                headerTableSize = Int(Self.uint32(small, at: start + 2))
            }
            return .settings(ack: frame.has(HTTP2FrameHeader.Flag.ack), headerTableSize: headerTableSize)
        case .priority, .ping, .windowUpdate:
            return nil
        }
    }

    /// The open header block ends: its event, whole or lost.
    private mutating func endBlock() -> Event? {
        guard blockOpen else { return nil }
        blockOpen = false
        if let reason = blockLostReason {
            return .headerBlockLost(streamID: blockStreamID, endStream: blockEndStream, reason: reason)
        }
        if let promised = blockPromisedStreamID {
            return .pushPromise(streamID: blockStreamID, promisedStreamID: promised, block: block[...])
        }
        return .headers(streamID: blockStreamID, endStream: blockEndStream, block: block[...])
    }

    /// Uses up to `gap` uncaptured bytes inside the current frame; past its end, sync is lost.
    private mutating func skipGap(_ gap: inout Int) -> Event? {
        guard state == .payload else {
            gap = 0
            return loseSync()
        }
        let count = min(gap, frame.length - offset)
        let contentCount = max(0, min(contentEnd, offset + count) - max(offset, prefixSize))
        let prefixCut = offset < prefixSize
        offset += count
        gap -= count
        if prefixCut {
            // Without its prefix the frame cannot be read; a block it belonged to is lost.
            skipping = true
            contentEnd = frame.length
            if blockOpen { blockLostReason = "header_block_not_captured" }
            if frame.kind == .data { return .data(streamID: frame.streamID, bytes: [], uncaptured: count) }
            return nil
        }
        guard !skipping, contentCount > 0 else { return nil }
        switch frame.kind {
        case .data:
            return .data(streamID: frame.streamID, bytes: [], uncaptured: contentCount)
        case .headers, .pushPromise, .continuation:
            blockLostReason = "header_block_not_captured"
        default:
            skipping = true
        }
        return nil
    }

    private mutating func loseSync() -> Event? {
        if state == .lostSync { return nil }
        state = .lostSync
        blockOpen = false
        pendingAfterBlock = nil
        small.removeAll(keepingCapacity: true)
        return .lostSync
    }

    private static func uint32(_ bytes: [UInt8], at start: Int) -> UInt32 {
        UInt32(bytes[start]) << 24 | UInt32(bytes[start + 1]) << 16 | UInt32(bytes[start + 2]) << 8 | UInt32(bytes[start + 3])
    }
}
