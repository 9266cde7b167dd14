/// Running totals a `ConnectionTracker` keeps for metrics and logs.
public struct ConnectionTrackerCounters: Sendable, Equatable {
    /// Connections whose bytes stopped being HTTP/1.x (or were never HTTP but drew an HTTP answer).
    public var decodeErrors = 0
    /// Times a decoder met traffic it does not read by design (`ProtocolOutput.opaque`).
    public var opaque = 0
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
}
