import FuzzSupport
import PeriscopeCore

/// Both streams of an HTTP/2 connection. The first byte's low bit starts the decoder as
/// after an `Upgrade: h2c`, stream 1 already open; its second bit makes the last bytes of
/// each segment with a gap the copy of the syscall's last bytes (`ProtocolSegment.tail`).
/// Its third bit gives each segment with a gap a kernel frame walk (`ProtocolSegment.frameWalk`):
/// the segment's last byte, n, says its n bytes before are the walk, read as ranges (three
/// bytes each: the distance from the previous range's end, 16-bit big-endian; the size, its
/// top bit for a range that starts a frame; then the bytes); its fourth bit reads those
/// bytes as the kernel's records instead, whatever they say.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP2(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzSegments.bytes(data, size)
    guard let mode = input.first else { return 0 }
    var decoder = HTTP2Decoder()
    var unannounced: Set<UInt64> = []
    if mode & 1 == 1 {
        let request = HTTPDetails(method: "GET", path: "/", target: "/")
        decoder = HTTP2Decoder(upgradedRequest: request, start: 500, tid: 1, exchangeID: 1 << 40)
        unannounced.insert(1 << 40)
    }
    var announced: Set<UInt64> = []
    var output: [ProtocolOutput] = []
    for var segment in FuzzSegments(input.dropFirst()) {
        if mode & 4 != 0, segment.gap > 0, let last = segment.bytes.last {
            let count = min(Int(last), segment.bytes.count - 1)
            let walk = segment.bytes.dropLast().suffix(count)
            segment.bytes = segment.bytes.dropLast(count + 1)
            segment.frameWalk = mode & 8 != 0 ? FrameWalk(records: walk) : fuzzedWalk(walk, after: segment.bytes.count)
        }
        if mode & 2 != 0, segment.gap > 0 {
            let count = min(64, segment.bytes.count / 2, segment.gap)
            segment.tail = segment.bytes.suffix(count)
            segment.bytes = segment.bytes.dropLast(count)
        }
        _ = HTTP2Decoder.detect(segment.bytes, stream: segment.stream)
        decoder.receive(segment, into: &output)
        fuzzCheck(decoder.openStreamCount <= HTTP2Decoder.maxStreams, "more streams than the limit")
        checkOutput(output, announced: &announced, unannounced: unannounced)
        output.removeAll(keepingCapacity: true)
    }
    decoder.finish(at: UInt64.max / 2, reason: "fuzz", into: &output)
    checkOutput(output, announced: &announced, unannounced: unannounced)
    fuzzCheck(announced.isEmpty, "announced exchanges never reported")
    fuzzCheck(decoder.openStreamCount == 0, "streams left after finish")
    return 0
}

/// Ranges from `spec` (see `fuzzHTTP2`), the first `prefix` bytes past the syscall's start.
func fuzzedWalk(_ spec: ArraySlice<UInt8>, after prefix: Int) -> FrameWalk {
    var ranges: [(offset: Int, startsFrame: Bool, bytes: [UInt8])] = []
    var rest = spec
    var position = prefix
    while rest.count >= 3 {
        let start = rest.startIndex
        let distance = Int(rest[start]) << 8 | Int(rest[start + 1])
        let size = min(Int(rest[start + 2] & 0x7f), rest.count - 3)
        let bytes = Array(rest[(start + 3)..<(start + 3 + size)])
        ranges.append((position + distance, rest[start + 2] & 0x80 != 0, bytes))
        position += distance + size
        rest = rest.dropFirst(3 + size)
    }
    return FrameWalk(ranges)
}

@main
enum FuzzHTTP2 {
    static func main() {
        runFuzzer(fuzzHTTP2)
    }
}
