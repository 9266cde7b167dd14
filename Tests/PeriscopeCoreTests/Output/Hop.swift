import Synchronization
import Testing
@testable import PeriscopeCore

/// Builds the spans a tracker would give for hops on one node, for output tests.
struct Hop {
    static let spanCounter = Atomic<UInt64>(1)

    static func address(_ port: UInt16) -> SocketAddress { SocketAddress(ipv4: 127, 0, 0, 1, port: port) }

    /// An HTTP span of `pid` on the connection between `clientPort` and `serverPort`.
    static func http(
        _ kind: Span.Kind, pid: Int32, tid: Int32? = nil, clientPort: UInt16, serverPort: UInt16,
        target: String, from start: UInt64, to end: UInt64, traceparent: String? = nil, parentMayFollow: Bool = true
    ) -> Span {
        span(kind, pid: pid, tid: tid, clientPort: clientPort, serverPort: serverPort, from: start, to: end,
             http: HTTPDetails(method: "GET", path: target, target: target, traceparent: traceparent),
             digest: SpanLinkHints.digest(method: "GET", target: target), parentMayFollow: parentMayFollow)
    }

    /// A connection span whose first bytes were `lead`.
    static func tcp(
        _ kind: Span.Kind, pid: Int32, tid: Int32? = nil, clientPort: UInt16, serverPort: UInt16,
        lead: String, from start: UInt64, to end: UInt64, parentMayFollow: Bool = true
    ) -> Span {
        span(kind, pid: pid, tid: tid, clientPort: clientPort, serverPort: serverPort, from: start, to: end,
             tcp: TCPDetails(bytesSent: 1, bytesReceived: 1),
             digest: SpanLinkHints.digest(leadingBytes: Array(lead.utf8)), parentMayFollow: parentMayFollow)
    }

    static func span(
        _ kind: Span.Kind, pid: Int32, tid: Int32?, clientPort: UInt16, serverPort: UInt16, from start: UInt64, to end: UInt64,
        http: HTTPDetails? = nil, tcp: TCPDetails? = nil, digest: UInt64?, parentMayFollow: Bool
    ) -> Span {
        let client = address(clientPort), server = address(serverPort)
        var context: TraceContext?
        if let traceparent = http?.traceparent { context = TraceContext(traceparent: traceparent) }
        let id = spanCounter.add(1, ordering: .relaxed).newValue
        let span = Span(
            traceID: context?.traceID ?? TraceID(high: 0xabc, low: id), spanID: SpanID(value: id),
            parentSpanID: context?.parentID, kind: kind, name: http == nil ? "tcp" : "GET",
            startTimeUnixNano: start, endTimeUnixNano: end, pid: pid, tid: tid ?? pid,
            local: kind == .client ? client : server, peer: kind == .client ? server : client, http: http, tcp: tcp
        )
        _ = (digest, parentMayFollow)
        return span
}
}
