/// One observation from the kernel about a socket of a selected process, already
/// decoded from the shared C layout by the BPF adapter.
///
/// Timestamps are kernel monotonic nanoseconds (`bpf_ktime_get_ns`); `ClockMapping`
/// turns them into Unix time when spans are built.
public struct CaptureEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Bytes moved by read/write-family syscalls (or sendfile, with no payload).
        case data(Direction)
        /// accept/accept4 (`.server`) or connect (`.client`) completed.
        case opened(ConnectionRole)
        /// close(2) on a tracked socket.
        case closed
        /// close_range(2): every descriptor from `fd` to `last` closed at once.
        case closedRange(last: Int32)
        /// The process (thread group) exited.
        case processExited
        /// The process called execve; its executable may have changed, and the descriptors
        /// marked close-on-exec are closed (`descriptorsOpenAfterExec`).
        case processExec
        /// The kernel decided the context of the request this thread is about to read or has
        /// just written on the socket (`socketID` for a read, the local port for a write); the
        /// data event of that read or write follows.
        case traceContext(KernelTraceContext)
        /// The process (`pid`) was forked by `parent`: it runs its parent's executable and
        /// holds its parent's descriptors until it calls exec.
        case processForked(parent: Int32)
    }

    public var kind: Kind
    /// Kernel monotonic clock, nanoseconds.
    public var timestamp: UInt64
    /// Thread group id (what users call the PID).
    public var pid: Int32
    /// Thread id.
    public var tid: Int32
    /// File descriptor in `pid`; -1 when the event is not about a socket.
    public var fd: Int32
    /// Opaque identity of the kernel socket; distinguishes reuse of the same fd.
    public var socketID: UInt64
    public var local: SocketAddress
    public var peer: SocketAddress
    /// Bytes the syscall actually moved (its return value). May exceed `payload.count`.
    public var totalLength: Int
    /// The captured prefix of those bytes (bounded by the capture size), followed by their
    /// last `tailLength` bytes when those were not reached.
    public var payload: [UInt8]
    /// How many of `payload`'s bytes are the syscall's last bytes rather than a continuation
    /// of its prefix: bytes between the two were not captured. 0: `payload` is one prefix.
    public var tailLength = 0
    /// `.processExec`: bit n set = descriptor n (n < 64) is still open after the exec; a
    /// tracked connection on a lower descriptor that is not was closed by the exec. Nil when
    /// not known.
    public var descriptorsOpenAfterExec: UInt64?
    /// Requests on this socket before this event were shed by the kernel under overload
    /// (never part of one: this event starts a request).
    public var resumedAfterShedding = false
    /// `.closedRange` only: bit n set = the socket of descriptor `fd + n` (n < 64) is still
    /// held by other descriptors, so its connection goes on, as after a `.closed` with
    /// `socketStillOpen`.
    public var descriptorsStillHeld: UInt64 = 0
    /// `.closed` only: other descriptors still hold the socket (inherited by a fork, passed
    /// with SCM_RIGHTS, dup'ed), so its connection goes on with whoever uses it next.
    public var socketStillOpen = false
    /// `.data` of a chunked HTTP/1 body longer than the capture: its chunk headers as the
    /// kernel walked them past the captured prefix. Nil when it did not.
    public var chunkWalk: ChunkWalk?
    /// `.data` of a socket carrying HTTP/2 longer than the capture: the frame headers and
    /// header blocks the kernel copied past the captured prefix. Empty when it did not.
    public var frameWalk = FrameWalk()
    /// Set for bytes of a TLS connection seen at its TLS library: the plaintext, or the
    /// records the library moved on the socket. Nil for what a syscall moved otherwise.
    public var tls: TLSLayer?
    /// `.data`: the context the kernel decided for the request this read or write starts,
    /// carried in its own record — a server request read's, or the one written into an
    /// outgoing request as `traceparent`. Nil when it carried none.
    public var kernelContext: KernelTraceContext?

    public init(
        kind: Kind, timestamp: UInt64, pid: Int32, tid: Int32, fd: Int32,
        socketID: UInt64 = 0, local: SocketAddress = .unspecified, peer: SocketAddress = .unspecified,
        totalLength: Int = 0, payload: [UInt8] = [], tailLength: Int = 0
    ) {
        self.kind = kind
        self.timestamp = timestamp
        self.pid = pid
        self.tid = tid
        self.fd = fd
        self.socketID = socketID
        self.local = local
        self.peer = peer
        self.totalLength = totalLength
        self.payload = payload
        self.tailLength = tailLength
    }
}

/// Which way bytes moved, seen from the traced process.
public enum Direction: Sendable, Equatable {
    /// The process read them (read, readv, recvfrom, recvmsg).
    case ingress
    /// The process wrote them (write, writev, sendto, sendmsg, sendfile).
    case egress
}

/// How the traced process came to own the connection.
public enum ConnectionRole: Sendable, Equatable {
    /// It accepted the connection.
    case server
    /// It connected.
    case client
    /// The connection existed before tracing started; inferred from the traffic.
    case unknown
}
