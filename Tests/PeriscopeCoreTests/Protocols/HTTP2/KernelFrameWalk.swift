@testable import PeriscopeCore

/// The kernel's walk of HTTP/2 frames (bpf/include/periscope_frame_walk.h) over the bytes of
/// one read or write, as tests feed it to the decoder.
struct KernelFrameWalk {
    /// Where the walk goes on in the next read or write: the rest of the current frame, or
    /// the bytes of a frame header cut by the end of this one.
    var frameLeft = 0
    var copyLeft = 0
    var header: [UInt8] = []

    /// What the walk copies of `bytes` past the first `prefix` (the capture), from `start`
    /// when it begins there (after a preface: 24).
    mutating func walk(_ bytes: [UInt8], prefix: Int, start: Int = 0) -> FrameWalk {
        var ranges: [(offset: Int, startsFrame: Bool, bytes: [UInt8])] = []
        func emit(_ from: Int, _ count: Int, startsFrame: Bool) {
            var from = from, count = count, startsFrame = startsFrame
            guard count > 0, from + count > prefix else { return }
            if from < prefix {
                count -= prefix - from
                from = prefix
                startsFrame = false
            }
            let slice = Array(bytes[from..<(from + count)])
            if let last = ranges.last, last.offset + last.bytes.count == from {
                ranges[ranges.count - 1].bytes += slice
            } else {
                ranges.append((from, startsFrame, slice))
            }
        }
        var at = start
        while at < bytes.count {
            if frameLeft > 0 {
                let copy = min(copyLeft, bytes.count - at)
                emit(at, copy, startsFrame: false)
                let step = min(frameLeft, bytes.count - at)
                at += step
                frameLeft -= step
                copyLeft = max(0, copyLeft - step)
                continue
            }
            let count = min(9 - header.count, bytes.count - at)
            emit(at, count, startsFrame: header.isEmpty)
            header += bytes[at..<(at + count)]
            at += count
            guard header.count == 9 else { break }
            let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            let type = header[3], flags = header[4]
            header = []
            frameLeft = length
            copyLeft = min(length, type == 0 ? (flags & 0x8 != 0 ? 6 : 5) : [1, 3, 4, 5, 7, 9].contains(type) ? length : 0)
        }
        return FrameWalk(ranges)
    }
}

extension H2Conversation {
    /// A read or write of `bytes` of which the first `prefix` were captured, with the walk.
    mutating func send(_ stream: MessageStream, _ bytes: [UInt8], prefix: Int, walk: FrameWalk, tid: Int32 = 9) {
        clock += 1_000
        var segment = ProtocolSegment(stream: stream, bytes: bytes.prefix(prefix), gap: bytes.count - prefix, timestamp: clock, tid: tid)
        segment.frameWalk = walk
        decoder.receive(segment, into: &output)
    }
}
