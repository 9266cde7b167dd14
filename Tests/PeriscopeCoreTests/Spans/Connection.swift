@testable import PeriscopeCore

/// Builds the capture events of one socket of one process, for tracker tests.
struct Connection {
    var pid: Int32 = 100
    var fd: Int32 = 7
    var socketID: UInt64 = 1
    var local = SocketAddress(ipv4: 10, 0, 0, 1, port: 8080)
    var peer = SocketAddress(ipv4: 10, 0, 0, 2, port: 51234)

    func event(_ kind: CaptureEvent.Kind, at timestamp: UInt64, tid: Int32 = 0, bytes: [UInt8] = [], total: Int? = nil) -> CaptureEvent {
        CaptureEvent(
            kind: kind, timestamp: timestamp, pid: pid, tid: tid == 0 ? pid : tid, fd: fd, socketID: socketID,
            local: local, peer: peer, totalLength: total ?? bytes.count, payload: bytes
        )
    }

    func opened(_ role: ConnectionRole, at timestamp: UInt64) -> CaptureEvent {
        event(.opened(role), at: timestamp)
    }

    /// The process read `text`; `total` is what the syscall moved when the capture kept less.
    func read(_ text: String, at timestamp: UInt64, tid: Int32 = 0, total: Int? = nil) -> CaptureEvent {
        event(.data(.ingress), at: timestamp, tid: tid, bytes: Array(text.utf8), total: total)
    }

    func read(bytes: [UInt8], at timestamp: UInt64, tid: Int32 = 0, total: Int? = nil) -> CaptureEvent {
        event(.data(.ingress), at: timestamp, tid: tid, bytes: bytes, total: total)
    }

    func write(_ text: String, at timestamp: UInt64, tid: Int32 = 0, total: Int? = nil) -> CaptureEvent {
        event(.data(.egress), at: timestamp, tid: tid, bytes: Array(text.utf8), total: total)
    }

    func write(bytes: [UInt8], at timestamp: UInt64, tid: Int32 = 0, total: Int? = nil) -> CaptureEvent {
        event(.data(.egress), at: timestamp, tid: tid, bytes: bytes, total: total)
    }

    func closed(at timestamp: UInt64) -> CaptureEvent {
        event(.closed, at: timestamp)
    }

    func exited(at timestamp: UInt64) -> CaptureEvent {
        CaptureEvent(kind: .processExited, timestamp: timestamp, pid: pid, tid: pid, fd: -1)
    }
}

/// Unix time = monotonic + this, in the tracker tests.
let testClockOffset: Int64 = 1_700_000_000_000_000_000

func makeTracker(
    _ configuration: ConnectionTrackerConfiguration = .init(), seed: UInt64 = 1
) -> ConnectionTracker {
    ConnectionTracker(configuration: configuration, clock: ClockMapping(offsetNanos: testClockOffset), generator: FastRandom(seed: (seed, 0, 0, 0)))
}

func unix(_ monotonic: UInt64) -> UInt64 {
    UInt64(Int64(monotonic) + testClockOffset)
}

extension ConnectionTracker {
    /// Handles every event and collects the spans.
    mutating func run(_ events: [CaptureEvent]) -> [Span] {
        events.flatMap { handle($0) }
    }
}
