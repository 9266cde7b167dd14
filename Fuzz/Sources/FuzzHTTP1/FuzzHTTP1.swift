import FuzzSupport
import PeriscopeCore

/// Both streams of an HTTP/1.x connection through `HTTP1ProtocolDecoder`. A segment with a gap also carries a kernel chunk walk made from its last byte
/// (`ChunkWalk.fuzzed`): anchored by its low five bits past the prefix, ending at a header
/// when bit 5 is set.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzSegments.bytes(data, size)
    var decoder = HTTP1ProtocolDecoder()
    var announced: Set<UInt64> = []
    var output: [ProtocolOutput] = []
    for var segment in FuzzSegments(input[...]) {
        segment.chunkWalk = ChunkWalk.fuzzed(prefix: segment.bytes.count, gap: segment.gap, last: segment.bytes.last)
        _ = HTTP1ProtocolDecoder.detect(segment.bytes, stream: segment.stream)
        decoder.receive(segment, into: &output)
        checkOutput(output, announced: &announced)
        output.removeAll(keepingCapacity: true)
    }
    decoder.finish(at: UInt64.max / 2, reason: "fuzz", into: &output)
    checkOutput(output, announced: &announced)
    return 0
}

@main
enum FuzzHTTP1 {
    static func main() {
        runFuzzer(fuzzHTTP1)
    }
}
