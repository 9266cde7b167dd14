import FuzzSupport
import PeriscopeCore

/// Both streams of a Redis connection. The first byte's low bit keeps query values.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedis(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzSegments.bytes(data, size)
    guard let mode = input.first else { return 0 }
    var decoder = RedisDecoder(options: DatabaseQueryOptions(keepQueryValues: mode & 1 == 1))
    var announced: Set<UInt64> = []
    var output: [ProtocolOutput] = []
    for segment in FuzzSegments(input.dropFirst()) {
        _ = RedisDecoder.detect(segment.bytes, stream: segment.stream)
        decoder.receive(segment, into: &output)
        checkOutput(output, announced: &announced)
        output.removeAll(keepingCapacity: true)
    }
    decoder.finish(at: UInt64.max / 2, reason: "fuzz", into: &output)
    checkOutput(output, announced: &announced)
    fuzzCheck(announced.isEmpty, "announced commands never reported")
    return 0
}

@main
enum FuzzRedis {
    static func main() {
        runFuzzer(fuzzRedis)
    }
}
