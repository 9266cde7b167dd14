import FuzzSupport
import PeriscopeCore

/// Both streams of an HTTP/2 connection. The first byte's low bit starts the decoder as
/// after an `Upgrade: h2c`, stream 1 already open; its second bit makes the last bytes of
/// each segment with a gap the copy of the syscall's last bytes (`ProtocolSegment.tail`).
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

@main
enum FuzzHTTP2 {
    static func main() {
        runFuzzer(fuzzHTTP2)
    }
}
