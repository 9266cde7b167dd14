/// Frames one direction of a MySQL/MariaDB connection into packets: a 3-byte little-endian
/// payload length and a sequence id, then the payload. A packet that lies whole in one read
/// is handed out in place; one that spans reads is gathered in a buffer holding at most
/// `keep` bytes, the rest skipped by length, uncaptured bytes included. A payload of
/// 0xFFFFFF bytes continues in the next packet, which comes marked as a continuation.
/// Used as an iterator: `begin` with a read's bytes, then `next` until nil.
struct MySQLPacketReader: Sendable {
    struct Packet {
        var sequence: UInt8
        /// The payload, or the prefix kept when it spanned reads (`length` says how long
        /// it was).
        var payload: ArraySlice<UInt8>
        var length: Int
        /// Part of a payload longer than 0xFFFFFF bytes begun in an earlier packet.
        var isContinuation: Bool
        /// The read or write that moved the packet's first byte.
        var start: UInt64
        var tid: Int32
    }

    enum Event {
        case packet(Packet)
        /// Bytes were not captured beyond the packet in progress.
        case lostSync
    }

    static let maxPayloadLength = 0xFF_FFFF

    /// Payload bytes kept of a packet spanning reads.
    let keep: Int
    private(set) var isLost = false

    private var input: ArraySlice<UInt8> = []
    private var gap = 0
    private var timestamp: UInt64 = 0
    private var tid: Int32 = 0
    private var header: (bytes: UInt32, count: Int, start: UInt64, tid: Int32) = (0, 0, 0, 0)
    private var partial: (sequence: UInt8, length: Int, remaining: Int, continuation: Bool, start: UInt64, tid: Int32)?
    private var buffer: [UInt8] = []
    /// The last packet's payload was 0xFFFFFF bytes: the next one continues it.
    private var continues = false

    init(keep: Int) {
        self.keep = keep
    }

    /// Starts reading the bytes of one read or write and the `gap` bytes it moved beyond them.
    /// While lost, reads are skipped until `resynchronize` or one that `accepts`.
    mutating func begin(_ bytes: ArraySlice<UInt8>, gap: Int, timestamp: UInt64, tid: Int32,
                        accepting accepts: (ArraySlice<UInt8>) -> Bool = { _ in false }) {
        input = bytes
        self.gap = max(0, gap)
        self.timestamp = timestamp
        self.tid = tid
        if isLost {
            if accepts(bytes) {
                resynchronize()
            } else {
                input = []
                self.gap = 0
            }
        }
    }

    /// The next read starts at a packet boundary.
    mutating func resynchronize() {
        isLost = false
        header = (0, 0, 0, 0)
        partial = nil
        continues = false
    }

    mutating func next() -> Event? {
        while !isLost {
            if var body = partial {
                let available = min(body.remaining, input.count)
                let kept = min(available, max(0, keep - buffer.count))
                buffer.append(contentsOf: input.prefix(kept))
                input = input.dropFirst(available)
                body.remaining -= available
                if body.remaining > 0, input.isEmpty, gap > 0 {
                    let skipped = min(gap, body.remaining)
                    gap -= skipped
                    body.remaining -= skipped
                }
                if body.remaining == 0 {
                    partial = nil
                    return .packet(Packet(sequence: body.sequence, payload: buffer[...], length: body.length,
                                          isContinuation: body.continuation, start: body.start, tid: body.tid))
                }
                partial = body
                return nil
            }
            guard !input.isEmpty else {
                if gap > 0 {
                    gap = 0
                    header.count = 0
                    isLost = true
                    return .lostSync
                }
                return nil
            }
            if header.count == 0 {
                header.start = timestamp
                header.tid = tid
            }
            while header.count < 4, let byte = input.first {
                header.bytes |= UInt32(byte) << (8 * UInt32(header.count))
                header.count += 1
                input = input.dropFirst()
            }
            guard header.count == 4 else { continue }
            let length = Int(header.bytes & 0xFF_FFFF)
            let sequence = UInt8(header.bytes >> 24)
            let start = header.start
            let startTID = header.tid
            header = (0, 0, 0, 0)
            let continuation = continues
            continues = length == Self.maxPayloadLength
            if input.count >= length {
                let payload = input.prefix(length)
                input = input.dropFirst(length)
                return .packet(Packet(sequence: sequence, payload: payload, length: length, isContinuation: continuation,
                                      start: start, tid: startTID))
            }
            buffer.removeAll(keepingCapacity: true)
            partial = (sequence, length, length, continuation, start, startTID)
        }
        return nil
    }
}
