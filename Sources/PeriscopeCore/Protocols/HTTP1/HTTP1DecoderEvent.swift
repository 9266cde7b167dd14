/// What an `HTTP1Decoder` found in the bytes it was given, in stream order.
public enum HTTP1DecoderEvent: Sendable, Equatable {
    /// The first byte of a message was in this input.
    case messageBegin
    /// The message head is complete (or, with `isComplete == false`, cut short by a gap).
    /// Boxed: only a list of events holds one (`HTTP1ProtocolDecoder` takes heads in place),
    /// and inline it would make every event as large as a head's strings, copied each time
    /// an event is handed on.
    indirect case head(HTTP1MessageHead)
    /// The message ended in this input (or, from `finish()`, in an earlier one).
    /// `bodySize` counts body bytes without chunk framing; nil when a capture gap crossed the
    /// framing of a chunked body and the kernel did not walk it: unknown rather than counted with its framing.
    case messageEnd(bodySize: Int?)
    /// While out of sync, this input began a new message. When `previousMessageEnded`, a
    /// message was in progress and ended with the previous input, with `previousBodySize`
    /// (nil when unknown, as for `messageEnd`).
    case resynchronized(previousMessageEnded: Bool, previousBodySize: Int?)
    /// A gap crossed message framing or landed in a head: message boundaries are unknown
    /// until an input starts with a recognisable message.
    case lostSync
    /// A `101 Switching Protocols` or a successful `CONNECT`: what follows is not HTTP.
    case upgraded
    /// The bytes are not HTTP/1.x; the decoder ignores everything after this.
    case error(HTTP1DecodeError)
}

/// Where an `HTTP1Decoder` hands what it finds, as it finds it: a list of events, or
/// `HTTP1ProtocolDecoder`, which pairs requests with responses as their heads and ends
/// are found, with no list between them.
protocol HTTP1DecoderEventSink {
    /// Every event but `.head`.
    mutating func decoded(_ event: HTTP1DecoderEvent)
    /// A head, its fields lying in `bytes` (valid only during the call).
    mutating func decodedHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>)
    /// The method of the request a final response answers, its head just reported: the
    /// first of `waiting` (the response decoder's `pendingRequestMethods`, taken from it), or
    /// what the sink knows of the requests awaiting a response.
    mutating func answeredRequestMethod(waiting: inout [HTTP1Method]) -> HTTP1Method?
}

extension Array: HTTP1DecoderEventSink where Element == HTTP1DecoderEvent {
    mutating func decoded(_ event: HTTP1DecoderEvent) {
        append(event)
    }

    mutating func decodedHead(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>) {
        append(.head(HTTP1MessageHead(head, in: bytes)))
    }

    mutating func answeredRequestMethod(waiting: inout [HTTP1Method]) -> HTTP1Method? {
        waiting.isEmpty ? nil : waiting.removeFirst()
    }
}
