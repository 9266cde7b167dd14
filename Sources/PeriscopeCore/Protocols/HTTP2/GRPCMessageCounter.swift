/// Counts the length-prefixed messages of one direction of a gRPC stream (a compressed
/// flag byte and a four-byte big-endian length before each message), across DATA frames
/// and reads, by skipping each message's bytes without looking at them.
struct GRPCMessageCounter: Sendable, Equatable {
    /// Messages whose prefix was read; nil once uncaptured bytes hid a prefix.
    private(set) var count: Int? = 0
    /// Prefix bytes still to read of the next message (5 when between messages).
    private var prefixRemaining = 5
    private var length = 0
    /// Bytes of the current message still to skip.
    private var messageRemaining = 0

    mutating func consume(_ bytes: ArraySlice<UInt8>) {
        guard count != nil else { return }
        var position = bytes.startIndex
        while position < bytes.endIndex {
            if messageRemaining > 0 {
                let step = min(messageRemaining, bytes.endIndex - position)
                messageRemaining -= step
                position += step
                continue
            }
            if prefixRemaining == 5 { length = 0 }
            if prefixRemaining < 5 { length = length << 8 | Int(bytes[position]) }
            prefixRemaining -= 1
            position += 1
            if prefixRemaining == 0 {
                count? += 1
                messageRemaining = length
                prefixRemaining = 5
            }
        }
    }

    /// `bytes` were moved but not captured.
    mutating func skip(_ bytes: Int) {
        guard count != nil, bytes > 0 else { return }
        if prefixRemaining == 5, bytes <= messageRemaining {
            messageRemaining -= bytes
        } else {
            count = nil
        }
    }
}
