/// A connection's switch to another protocol: an HTTP/1.1 request with `Upgrade` answered by
/// `101 Switching Protocols` (RFC 9110 §7.8), or a tunnel after a successful `CONNECT`. The
/// decoder that saw it stops there. When an enabled protocol is registered for
/// `protocolName` (`ProtocolRegistration.upgradeToken`, HTTP/2's `h2c`), its decoder starts
/// from this value and answers the request that asked for the switch; otherwise the
/// switching exchange is reported as it is and the connection goes on as one span.
public struct ProtocolUpgrade: Sendable, Equatable {
    /// The protocol switched to as the exchange named it, lowercased (`websocket`, `h2c`);
    /// nil when unnamed (a tunnel).
    public var protocolName: String?
    /// Kernel monotonic nanoseconds of the read or write that carried the switch.
    public var timestamp: UInt64
    /// The exchange that asked for the switch (a `101`'s), held back: its request (`http`),
    /// exchange id, start and thread are the new protocol's first request (HTTP/2's stream
    /// 1). Nil when it was reported already (a `CONNECT`).
    public var operation: ProtocolOperation?
    /// What followed the switch in the same read or write: the new protocol's first bytes.
    public var remainder: ProtocolSegment?

    public init(protocolName: String?, timestamp: UInt64, operation: ProtocolOperation? = nil, remainder: ProtocolSegment? = nil) {
        self.protocolName = protocolName
        self.timestamp = timestamp
        self.operation = operation
        self.remainder = remainder
    }
}
