import FuzzSupport
import PeriscopeCore

/// Random event streams through `ConnectionTracker`: a few processes, descriptors and
/// sockets opened, read, written (with uncaptured gaps and tails), closed one by one or by
/// range, execs, forks, exits and idle expiry, every protocol decoder on. Traps when the
/// tracker breaks a promise: its open-connection count off, more connections than its
/// limit, a span ending before it starts, negative sizes.
///
/// Each event is one byte: bits 0–3 the kind, bits 4–5 the process, bits 6–7 the socket;
/// then the descriptor byte (low 3 bits) and, for data, a length byte (63: two length
/// bytes follow), the bytes, and a byte whose high half times 64 is the gap and whose low
/// half times 4 is the tail; a data event with a gap carries a chunk walk made from its
/// last byte (`ChunkWalk.fuzzed`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnectionTracker(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzSegments.bytes(data, size)[...]
    let limit = 8
    var tracker = ConnectionTracker(
        configuration: ConnectionTrackerConfiguration(protocols: Set(TracedProtocol.allCases), maxConnections: limit),
        clock: ClockMapping(offsetNanos: 1_700_000_000_000_000_000), generator: FastRandom(seed: (0x9E37_79B9_7F4A_7C15, 1, 2, 3))
    )
    var spans: [Span] = []
    var now: UInt64 = 1_000
    while let header = input.popFirst() {
        now += 1_000
        let pid = Int32(100 + Int(header >> 4 & 3))
        let socket = UInt64(header >> 6) + 1
        let fd = Int32((input.popFirst() ?? 0) & 7)
        let server = SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)
        let client = SocketAddress(ipv4: 127, 0, 0, 1, port: UInt16(40_000 + socket))
        // Even processes serve, odd ones call: both ends of a connection can be traced.
        let (local, peer) = pid % 2 == 0 ? (server, client) : (client, server)
        func event(_ kind: CaptureEvent.Kind) -> CaptureEvent {
            CaptureEvent(kind: kind, timestamp: now, pid: pid, tid: pid, fd: fd, socketID: socket, local: local, peer: peer)
        }
        switch header & 15 {
        case 0: tracker.handle(event(.opened(.server)), into: &spans)
        case 1: tracker.handle(event(.opened(.client)), into: &spans)
        case 2, 3, 4, 5:
            var length = Int(input.popFirst() ?? 0)
            if length == 63 { length = Int(input.popFirst() ?? 0) << 8 | Int(input.popFirst() ?? 0) }
            let bytes = Array(input.prefix(length))
            input = input.dropFirst(length)
            let sizes = input.popFirst() ?? 0
            let gap = Int(sizes >> 4) * 64
            let tail = min(Int(sizes & 15) * 4, bytes.count)
            var data = event(.data(header & 1 == 0 ? .ingress : .egress))
            data.payload = bytes
            data.totalLength = bytes.count + gap
            data.tailLength = gap > 0 ? tail : 0
            data.chunkWalk = ChunkWalk.fuzzed(prefix: bytes.count - data.tailLength, gap: gap + data.tailLength, last: bytes.last)
            tracker.handle(data, into: &spans)
        case 6:
            var closed = event(.closed)
            closed.socketStillOpen = header & 0x40 != 0
            tracker.handle(closed, into: &spans)
        case 7:
            var closed = event(.closedRange(last: fd + Int32(header >> 6)))
            closed.descriptorsStillHeld = UInt64(header >> 6) * 0x33
            tracker.handle(closed, into: &spans)
        case 8:
            var exec = event(.processExec)
            exec.descriptorsOpenAfterExec = UInt64(header >> 6) * 0x55
            tracker.handle(exec, into: &spans)
        case 9: tracker.handle(CaptureEvent(kind: .processExited, timestamp: now, pid: pid, tid: pid, fd: -1), into: &spans)
        case 10: tracker.handle(CaptureEvent(kind: .processForked(parent: pid), timestamp: now, pid: pid + 2, tid: pid + 2, fd: -1), into: &spans)
        case 11: spans += tracker.expireIdle(now: now, idleNanos: 5_000) { _, descriptor in descriptor % 2 == 0 }
        case 12: tracker.advance(now: now, into: &spans)
        default: now += UInt64(header) * 1_000_000
        }
        fuzzCheck(tracker.counters.openConnections >= 0 && tracker.counters.openConnections <= limit, "open connections \(tracker.counters.openConnections)")
        check(spans)
        spans.removeAll(keepingCapacity: true)
    }
    spans += tracker.finishAll(at: now + 1, reason: "fuzz")
    check(spans)
    fuzzCheck(tracker.counters.openConnections == 0, "connections left after finishAll")
    return 0
}

private func check(_ spans: [Span]) {
    for span in spans {
        fuzzCheck(span.endTimeUnixNano >= span.startTimeUnixNano, "span ends before it starts")
        if let http = span.http { fuzzCheck((http.requestBodySize ?? 0) >= 0 && (http.responseBodySize ?? 0) >= 0, "negative body size") }
        if let tcp = span.tcp { fuzzCheck(tcp.bytesSent >= 0 && tcp.bytesReceived >= 0, "negative byte count") }
    }
}

@main
enum FuzzConnectionTracker {
    static func main() {
        runFuzzer(fuzzConnectionTracker)
    }
}
