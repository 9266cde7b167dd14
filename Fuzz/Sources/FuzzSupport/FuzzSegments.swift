import CFuzzDriver
import PeriscopeCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer with the process's arguments over `testOneInput` (the fuzzer's
/// `LLVMFuzzerTestOneInput`) and exits with its status.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
    exit(status)
}

/// A fuzzer's input read as the reads and writes of one connection. Each segment starts
/// with a byte: bit 7 the stream (0 requests, 1 responses), bit 6 a gap (the next byte,
/// times 16, is the number of bytes moved but not captured), bits 0–5 the length (63: the
/// next two bytes, big-endian). Whatever the input, it splits without trapping; the seeds
/// in Corpus/ are recorded conversations in this form (hack/fuzz-seeds.py).
public struct FuzzSegments: Sequence, IteratorProtocol {
    private var rest: ArraySlice<UInt8>
    private var timestamp: UInt64 = 1_000

    public init(_ bytes: ArraySlice<UInt8>) {
        rest = bytes
    }

    public mutating func next() -> ProtocolSegment? {
        guard let header = rest.popFirst() else { return nil }
        var gap = 0
        if header & 0x40 != 0, let size = rest.popFirst() { gap = Int(size) * 16 }
        var length = Int(header & 0x3f)
        if length == 63 {
            let high = rest.popFirst() ?? 0
            let low = rest.popFirst() ?? 0
            length = Int(high) << 8 | Int(low)
        }
        let bytes = rest.prefix(length)
        rest = rest.dropFirst(length)
        timestamp += 1_000
        return ProtocolSegment(
            stream: header & 0x80 == 0 ? .requests : .responses, bytes: bytes, gap: gap, timestamp: timestamp,
            tid: header & 0x80 == 0 ? 1 : 2
        )
    }

    /// The input, copied out of the buffer libFuzzer owns for the call.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

/// Traps (which libFuzzer reports as a crash, with the input) when a decoder broke a
/// promise: times out of order, negative sizes, operations never announced.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// The invariants every decoder's output keeps.
public func checkOutput(_ output: [ProtocolOutput], announced: inout Set<UInt64>, unannounced: Set<UInt64> = []) {
    for item in output {
        switch item {
        case .requestStarted(let start):
            fuzzCheck(announced.insert(start.exchangeID).inserted, "exchange \(start.exchangeID) announced twice")
        case .operation(let operation):
            fuzzCheck(operation.start <= operation.end, "operation ends before it starts")
            if let http = operation.http {
                fuzzCheck((http.requestBodySize ?? 0) >= 0 && (http.responseBodySize ?? 0) >= 0, "negative body size")
            }
            if let id = operation.exchangeID, !unannounced.contains(id) {
                fuzzCheck(announced.remove(id) != nil, "operation \(id) never announced")
            }
        case .decodeError(let reason), .opaque(let reason):
            fuzzCheck(!reason.isEmpty, "empty decode error reason")
        case .lostSync:
            break
        case .upgraded(let upgrade):
            if let id = upgrade.operation?.exchangeID, !unannounced.contains(id) {
                fuzzCheck(announced.remove(id) != nil, "upgraded exchange \(id) never announced")
            }
        }
    }
}

extension ChunkWalk {
    /// A kernel chunk walk for a read or write of `prefix` captured bytes and `gap` more,
    /// made from its last captured byte: anchored `last & 0x1f` bytes past the prefix, ending
    /// at a header (bit 5) at the end of the bytes moved, or in chunk data `last >> 6` bytes
    /// past it; nil without a gap.
    public static func fuzzed(prefix: Int, gap: Int, last: UInt8?) -> ChunkWalk? {
        guard gap > 0, let last else { return nil }
        let moved = prefix + gap
        let anchor = prefix + Int(last & 0x1f)
        let atHeader = last & 0x20 != 0
        return ChunkWalk(
            anchor: anchor, dataBytes: max(0, moved - anchor) / 2,
            end: atHeader ? moved : moved + Int(last >> 6), endsAtHeader: atHeader
        )
    }
}
