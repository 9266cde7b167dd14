/// Running totals a `ConnectionTracker` keeps for metrics and logs.
public struct ConnectionTrackerCounters: Sendable, Equatable {
    /// Connections whose bytes stopped being HTTP/1.x (or were never HTTP but drew an HTTP answer).
    public var decodeErrors = 0
    /// Times a decoder met traffic it does not read by design (`ProtocolOutput.opaque`).
    public var opaque = 0
    /// `decodeErrors` by the protocol decoding the connection (`ProtocolRegistration.label`,
    /// `none` before one was detected) and the decoder's reason.
    public var decodeErrorsByKind: [DecodeErrorKind: Int] = [:]
    /// Times a capture gap crossed message framing or landed in a head.
    public var lostSync = 0
    /// Connections dropped because `maxConnections` was reached.
    public var connectionsEvicted = 0
    /// Spans returned by `handle`, `finishAll` and `expireIdle`.
    public var spansEmitted = 0
    /// Connections whose descriptor closed while another process (or descriptor) still held
    /// the socket, and connections taken over by the process that used them next.
    public var connectionsHandedOff = 0
    public var connectionsAdopted = 0
    /// Connections tracked now.
    public var openConnections = 0
    /// Contexts the kernel decided and reported (`KernelTraceContext`), and of those, the
    /// ones whose read or write never came (its event was lost or shed).
    public var kernelContexts = 0
    public var kernelContextsUnmatched = 0

    public init() {}

    /// One protocol's decode errors of one reason.
    public struct DecodeErrorKind: Sendable, Hashable, Comparable {
        public var `protocol`: String
        public var reason: String

        public init(protocol: String, reason: String) {
            self.protocol = `protocol`
            self.reason = reason
        }

        public static func < (a: Self, b: Self) -> Bool { (a.protocol, a.reason) < (b.protocol, b.reason) }
    }

    mutating func countDecodeError(protocol label: String?, reason: String) {
        decodeErrors += 1
        decodeErrorsByKind[DecodeErrorKind(protocol: label ?? "none", reason: reason), default: 0] += 1
    }
}
