/// The nine bytes that start every HTTP/2 frame (RFC 9113 §4.1).
public struct HTTP2FrameHeader: Sendable, Equatable {
    /// Frame types of RFC 9113 §6; others are extensions, skipped by length.
    public enum Kind: UInt8, Sendable {
        case data = 0x0
        case headers = 0x1
        case priority = 0x2
        case resetStream = 0x3
        case settings = 0x4
        case pushPromise = 0x5
        case ping = 0x6
        case goAway = 0x7
        case windowUpdate = 0x8
        case continuation = 0x9
    }

    /// Flag bits (RFC 9113 §6).
    public enum Flag {
        public static let endStream: UInt8 = 0x01
        public static let ack: UInt8 = 0x01
        public static let endHeaders: UInt8 = 0x04
        public static let padded: UInt8 = 0x08
        public static let priority: UInt8 = 0x20
    }

    public static let size = 9
    /// The frame size every peer accepts before SETTINGS_MAX_FRAME_SIZE raises it.
    public static let defaultMaxFrameSize = 16_384

    public var length: Int
    public var type: UInt8
    public var flags: UInt8
    /// Without the reserved bit.
    public var streamID: UInt32

    public init(length: Int, type: UInt8, flags: UInt8, streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    /// Reads the header at the start of `bytes` (at least nine of them).
    public init(_ bytes: ArraySlice<UInt8>) {
        let start = bytes.startIndex
        length = Int(bytes[start]) << 16 | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2])
        type = bytes[start + 3]
        flags = bytes[start + 4]
        streamID = UInt32(bytes[start + 5] & 0x7f) << 24 | UInt32(bytes[start + 6]) << 16
            | UInt32(bytes[start + 7]) << 8 | UInt32(bytes[start + 8])
    }

    public var kind: Kind? { Kind(rawValue: type) }

    public func has(_ flag: UInt8) -> Bool { flags & flag != 0 }

    /// Why a frame with this header breaks RFC 9113's rules for its type (stream 0 or not,
    /// fixed lengths); nil when it does not. Such frames are skipped by their length.
    public var violation: String? {
        guard let kind else { return nil }
        switch kind {
        case .data, .headers, .pushPromise, .continuation:
            return streamID == 0 ? "frame_on_stream_zero" : nil
        case .priority:
            return streamID == 0 || length != 5 ? "invalid_priority_frame" : nil
        case .resetStream:
            return streamID == 0 || length != 4 ? "invalid_rst_stream_frame" : nil
        case .settings:
            return streamID != 0 || length % 6 != 0 || has(Flag.ack) && length != 0 ? "invalid_settings_frame" : nil
        case .ping:
            return streamID != 0 || length != 8 ? "invalid_ping_frame" : nil
        case .goAway:
            return streamID != 0 || length < 8 ? "invalid_goaway_frame" : nil
        case .windowUpdate:
            return length != 4 ? "invalid_window_update_frame" : nil
        }
    }

    /// Whether a header met where nothing is known about the connection is believable as
    /// HTTP/2: a type of RFC 9113, no flag that type does not define, no reserved bit, a
    /// length within the default maximum and right for the type, and a stream id of the
    /// right kind (odd for streams a client opens; even only for promised ones).
    static func isPlausible(_ bytes: ArraySlice<UInt8>) -> Bool {
        let header = HTTP2FrameHeader(bytes)
        guard let kind = header.kind, header.violation == nil, bytes[bytes.startIndex + 5] & 0x80 == 0,
              header.length <= defaultMaxFrameSize
        else { return false }
        let definedFlags: UInt8 = switch kind {
        case .data: Flag.endStream | Flag.padded
        case .headers: Flag.endStream | Flag.endHeaders | Flag.padded | Flag.priority
        case .settings, .ping: Flag.ack
        case .pushPromise: Flag.endHeaders | Flag.padded
        case .continuation: Flag.endHeaders
        case .priority, .resetStream, .goAway, .windowUpdate: 0
        }
        guard header.flags & ~definedFlags == 0 else { return false }
        switch kind {
        case .data, .headers, .continuation, .priority, .resetStream:
            return header.streamID % 2 == 1
        default:
            return true
        }
    }
}
