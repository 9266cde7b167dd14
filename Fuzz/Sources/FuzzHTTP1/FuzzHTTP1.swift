import FuzzSupport
import PeriscopeCore

/// Both streams of an HTTP/1.x connection: `HTTP1ConnectionDecoder` through its protocol
/// decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzSegments.bytes(data, size)
    var decoder = HTTP1ProtocolDecoder()
    var announced: Set<UInt64> = []
    var output: [ProtocolOutput] = []
    for segment in FuzzSegments(input[...]) {
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
