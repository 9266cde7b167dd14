extension HTTP2Decoder {
    /// HTTP/2 by prior knowledge: the client's connection preface on the requests stream.
    /// A connection seen midway is recognized from either stream when its bytes are whole,
    /// believable frames (`startsWithFrames`), strict enough that text protocols, TLS and
    /// the usual binary protocols do not pass.
    public static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection {
        let preface = HTTP2FrameReader.preface
        if stream == .requests, bytes.first == preface[0] {
            let count = min(bytes.count, preface.count)
            guard bytes.prefix(count).elementsEqual(preface.prefix(count)) else { return .doesNotMatch }
            return count == preface.count ? .matches : .needMoreBytes
        }
        if bytes.count < HTTP2FrameHeader.size { return bytes.isEmpty || couldStartFrame(bytes) ? .needMoreBytes : .doesNotMatch }
        guard startsWithFrames(bytes) else { return .doesNotMatch }
        // Frames read alike both ways: a header block that opens with a request's or a
        // response's pseudo-header says which way they go (the role of a socket seen midway).
        if let direction = headerBlockDirection(bytes), direction != stream { return .doesNotMatch }
        return .matches
    }

    /// Which stream the first header block in `bytes` (whole frames from their start) belongs
    /// to, from its first field: `:method`, `:path`, `:scheme` or `:authority` from the static
    /// table open a request, `:status` a response. Nil when no block is captured or its first
    /// field names a dynamic entry or a literal name.
    static func headerBlockDirection(_ bytes: ArraySlice<UInt8>) -> MessageStream? {
        var position = bytes.startIndex
        while bytes.endIndex - position >= HTTP2FrameHeader.size {
            let header = HTTP2FrameHeader(bytes[position..<position + HTTP2FrameHeader.size])
            let payloadStart = position + HTTP2FrameHeader.size
            position = payloadStart + header.length
            guard header.kind == .headers else { continue }
            var start = payloadStart
            if header.has(HTTP2FrameHeader.Flag.padded) { start += 1 }
            if header.has(HTTP2FrameHeader.Flag.priority) { start += 5 }
            let end = min(payloadStart + header.length, bytes.endIndex)
            while start < end {
                let first = bytes[start]
                if first & 0xe0 == 0x20 {
                    // A dynamic table size update comes before the fields.
                    var cursor = start
                    guard (try? HPACKDecoder.integer(bytes[..<end], &cursor, prefixBits: 5)) != nil else { return nil }
                    start = cursor
                    continue
                }
                let index = first & 0x80 != 0 ? Int(first & 0x7f) : first & 0xc0 == 0x40 ? Int(first & 0x3f) : Int(first & 0x0f)
                switch index {
                case 1...7: return .requests
                case 8...14: return .responses
                default: return nil
                }
            }
            return nil
        }
        return nil
    }

    /// Whether `bytes`, the start of a read or write, are one or more whole frames with
    /// believable headers (`HTTP2FrameHeader.isPlausible`), possibly followed by the start
    /// of one more whose header is believable too.
    static func startsWithFrames(_ bytes: ArraySlice<UInt8>) -> Bool {
        var position = bytes.startIndex
        var whole = 0
        while bytes.endIndex - position >= HTTP2FrameHeader.size {
            let header = bytes[position..<position + HTTP2FrameHeader.size]
            guard HTTP2FrameHeader.isPlausible(header) else { return false }
            let end = position + HTTP2FrameHeader.size + HTTP2FrameHeader(header).length
            guard end <= bytes.endIndex else { break }
            whole += 1
            position = end
        }
        return whole > 0
    }

    /// Whether fewer than nine bytes can still be the start of a believable frame header:
    /// a length of at most 16 KiB, a known type, and the length that type requires.
    private static func couldStartFrame(_ bytes: ArraySlice<UInt8>) -> Bool {
        let start = bytes.startIndex
        if bytes[start] != 0 { return false }
        if bytes.count > 1, bytes[start + 1] > 0x40 { return false }
        guard bytes.count > 3 else { return true }
        let length = Int(bytes[start + 1]) << 8 | Int(bytes[start + 2])
        guard let kind = HTTP2FrameHeader.Kind(rawValue: bytes[start + 3]) else { return false }
        return switch kind {
        case .priority: length == 5
        case .resetStream, .windowUpdate: length == 4
        case .ping: length == 8
        case .settings: length % 6 == 0
        case .goAway: length >= 8
        case .data, .headers, .pushPromise, .continuation: true
        }
    }
}

extension ProtocolRegistration {
    /// HTTP/2, on with `http` and with `grpc`. Listed before `http1` in
    /// `ProtocolRegistry.all`: the client preface reads like an HTTP/1 request line.
    /// The server may send its SETTINGS before it reads the client's preface. An HTTP/1.1
    /// connection upgraded with `h2c` continues here, its request as stream 1.
    public static let http2 = ProtocolRegistration(
        name: .http,
        label: "http2",
        alsoEnabledBy: [.grpc],
        serverSpeaksFirst: true,
        detect: { HTTP2Decoder.detect($0, stream: $1) },
        make: { HTTP2Decoder(configuration: $0) },
        upgradeToken: "h2c",
        makeUpgraded: { upgrade, configuration in
            guard let switching = upgrade.operation, let request = switching.http else { return HTTP2Decoder(configuration: configuration) }
            return HTTP2Decoder(
                upgradedRequest: request, start: switching.start, tid: switching.tid, exchangeID: switching.exchangeID,
                configuration: configuration
            )
        }
    )
}
