extension ConnectionTracker {
    /// An HTTP exchange as a span: server or client by the connection's role, named by the
    /// method, continuing the trace of a valid `traceparent`.
    mutating func span(for exchange: HTTP1Exchange, on connection: TrackedConnection.Ends) -> Span {
        let request = exchange.request
        let method = request.method ?? ""
        let target = request.target ?? ""
        let kind: Span.Kind = connection.role == .client ? .client : .server
        let statusCode = exchange.response?.statusCode
        let context = request.traceparent.flatMap { TraceContext(traceparent: $0) }
        let status: Span.Status
        if exchange.incompleteReason != nil {
            status = .error
        } else if let statusCode, statusCode >= 500 || kind == .client && statusCode >= 400 {
            status = .error
        } else {
            status = .unset
        }
        let details = HTTPDetails(
            method: method,
            path: HTTP1RequestTarget(target).path(keepingQuery: configuration.keepQuery),
            target: target,
            statusCode: statusCode,
            protocolVersion: request.version,
            requestBodySize: exchange.requestBodySize,
            responseBodySize: exchange.responseBodySize,
            host: request.host,
            userAgent: request.userAgent,
            traceparent: request.traceparent
        )
        var span = Span(
            traceID: context?.traceID ?? randomTraceID(),
            spanID: randomSpanID(),
            parentSpanID: context?.parentID,
            kind: kind,
            name: method,
            startTimeUnixNano: clock.unixNanos(fromMonotonic: exchange.startTimestamp),
            endTimeUnixNano: clock.unixNanos(fromMonotonic: exchange.endTimestamp),
            status: status,
            statusMessage: exchange.incompleteReason,
            pid: connection.pid,
            tid: exchange.tid,
            local: connection.local,
            peer: connection.peer,
            http: details
        )
        span.link = linkHints(kind: kind, on: connection, requestDigest: SpanLinkHints.digest(method: method, target: target))
        return span
    }

    /// A whole connection as a span, with the bytes the process moved each way.
    mutating func connectionSpan(for connection: TrackedConnection, end: UInt64) -> Span {
        let kind: Span.Kind = switch connection.role {
        case .server: .server
        case .client: .client
        case .unknown: .internal
        }
        var span = Span(
            traceID: randomTraceID(),
            spanID: randomSpanID(),
            kind: kind,
            name: "tcp",
            startTimeUnixNano: clock.unixNanos(fromMonotonic: connection.start),
            endTimeUnixNano: clock.unixNanos(fromMonotonic: max(end, connection.start)),
            pid: connection.pid,
            tid: connection.tid,
            local: connection.local,
            peer: connection.peer,
            tcp: TCPDetails(bytesSent: connection.bytesSent, bytesReceived: connection.bytesReceived)
        )
        span.link = linkHints(kind: kind, on: connection.ends, requestDigest: SpanLinkHints.digest(leadingBytes: connection.lead))
        return span
    }

    mutating func randomTraceID() -> TraceID {
        TraceID.random(using: &generator)
    }

    mutating func randomSpanID() -> SpanID {
        SpanID.random(using: &generator)
    }
}
