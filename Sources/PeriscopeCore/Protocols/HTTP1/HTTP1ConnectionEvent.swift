/// What an `HTTP1ConnectionDecoder` found on a connection.
public enum HTTP1ConnectionEvent: Sendable, Equatable {
    /// A request's head was decoded: `id` names its exchange, `timestamp` and `tid` are those
    /// of its first byte.
    case requestStarted(id: Int, head: HTTP1MessageHead, timestamp: UInt64, tid: Int32)
    /// An exchange finished (or was abandoned, see `HTTP1Exchange.incompleteReason`).
    case exchange(HTTP1Exchange)
    /// One direction lost sync after a capture gap.
    case lostSync
    /// Bytes that are not HTTP/1.x; the connection is no longer decoded as HTTP.
    case decodeError(HTTP1DecodeError)
    /// The connection switched to another protocol (101, successful CONNECT) with the
    /// response read or written at `timestamp`: `protocolName` is the first protocol its
    /// `Upgrade` header names, lowercased (nil for a tunnel). A `101` gives the exchange that
    /// asked for the switch (`switching`), held back: the new protocol may answer its request;
    /// `remainder` is what followed the response head in the same read or write.
    case upgraded(protocolName: String?, timestamp: UInt64, switching: HTTP1Exchange?, remainder: ArraySlice<UInt8>)
}
