extension ConnectionTracker {
    /// One thing a decoder found on the connection in `slot`.
    mutating func apply(_ output: ProtocolOutput, slot: Int, into spans: inout [Span]) {
        switch output {
        case .requestStarted(let start):
            let context = startRequest(start, on: connections.slots[slot].ends)
            let entry = TrackedConnection.InFlight(exchangeID: start.exchangeID, context: context, digest: start.requestDigest, tid: start.tid)
            connections.slots[slot].inFlight.append(entry)
        case .operation(let operation):
            connections.slots[slot].operations += 1
            let inFlight = connections.slots[slot].takeInFlight(operation.exchangeID)
            finish(operation, inFlight: inFlight, on: connections.slots[slot].ends, into: &spans)
        case .lostSync:
            counters.lostSync += 1
        case .decodeError:
            counters.decodeErrors += 1
        }
    }

    /// Decides the context of a request when it starts, by the role of its connection's end.
    mutating func startRequest(_ start: RequestStart, on ends: TrackedConnection.Ends) -> SpanContext {
        let traceparent = start.traceparent.flatMap { TraceContext(traceparent: $0) }
        let sampler = configuration.sampler(of: ends.pid)
        switch ends.role {
        case .server:
            return linker.serverStarted(
                pid: ends.pid, tid: start.tid, local: ends.local, peer: ends.peer,
                callerTraced: isTraced(local: ends.local, peer: ends.peer), digest: start.requestDigest,
                streamID: start.streamID, traceparent: traceparent, byThread: true, timestamp: start.timestamp,
                sampler: sampler, generator: &generator
            )
        case .client:
            let context = linker.clientStarted(
                pid: ends.pid, tid: start.tid, local: ends.local, peer: ends.peer,
                calleeTraced: isTraced(local: ends.local, peer: ends.peer), digest: start.requestDigest,
                streamID: start.streamID, traceparent: traceparent, perRequest: true, sampler: sampler, generator: &generator
            )
            if isTraced(local: ends.local, peer: ends.peer) {
                linker.noteClientStart(context.spanID, at: clock.unixNanos(fromMonotonic: start.timestamp))
            }
            return context
        case .unknown:
            return TraceLinker.root(spanID: SpanID.random(using: &generator), traceparent: traceparent, sampler: sampler, generator: &generator)
        }
    }

    /// The first request bytes of a connection that gives a connection span: its context,
    /// decided the way a request's is.
    mutating func startConnectionSpan(slot: Int, event: CaptureEvent) {
        let pid = event.pid
        let connection = connections.slots[slot].ends
        let digest = SpanLinkHints.digest(leadingBytes: event.payload.prefix(64))
        let sampler = configuration.sampler(of: pid)
        let context: SpanContext
        switch connection.role {
        case .server:
            context = linker.serverStarted(
                pid: pid, tid: event.tid, local: connection.local, peer: connection.peer,
                callerTraced: isTraced(local: connection.local, peer: connection.peer), digest: digest,
                traceparent: nil, byThread: false, timestamp: event.timestamp, sampler: sampler, generator: &generator
            )
        case .client:
            context = linker.clientStarted(
                pid: pid, tid: event.tid, local: connection.local, peer: connection.peer,
                calleeTraced: isTraced(local: connection.local, peer: connection.peer), digest: digest,
                traceparent: nil, perRequest: false, sampler: sampler, generator: &generator
            )
        case .unknown:
            return
        }
        connections.slots[slot].connectionContext = context
        connections.slots[slot].connectionDigest = digest
    }

    /// A finished operation as a span, with the context decided when it started (or now,
    /// when its start was never announced).
    mutating func finish(_ operation: ProtocolOperation, inFlight: TrackedConnection.InFlight?, on ends: TrackedConnection.Ends, into spans: inout [Span]) {
        let context: SpanContext
        if let inFlight {
            context = inFlight.context
            if ends.role == .server {
                linker.serverEnded(pid: ends.pid, tid: inFlight.tid, digest: inFlight.digest, byThread: true, spanID: context.spanID)
            }
        } else {
            let start = RequestStart(
                exchangeID: operation.exchangeID ?? 0, timestamp: operation.start, tid: operation.tid,
                requestDigest: operation.requestDigest, traceparent: operation.traceparent, streamID: operation.streamID
            )
            context = startRequest(start, on: ends)
            if ends.role == .server {
                linker.serverEnded(pid: ends.pid, tid: operation.tid, digest: operation.requestDigest, byThread: true, spanID: context.spanID)
            }
        }
        let kind: Span.Kind = switch ends.role {
        case .client: .client
        case .server: .server
        case .unknown: .internal
        }
        let start = clock.unixNanos(fromMonotonic: operation.start)
        var end = clock.unixNanos(fromMonotonic: max(operation.end, operation.start))
        if kind == .client { end = linker.clampedEnd(end, of: context.spanID) }
        var span = Span(
            traceID: context.traceID,
            spanID: context.spanID,
            kind: kind,
            name: operation.name,
            startTimeUnixNano: start,
            endTimeUnixNano: end,
            status: kind == .client ? operation.clientStatus ?? operation.status : operation.status,
            statusMessage: operation.statusMessage,
            pid: ends.pid,
            tid: operation.tid,
            local: ends.local,
            peer: ends.peer,
            http: operation.http
        )
        span.protocolAttributes = operation.attributes
        linker.finish(span, context: context, now: operation.end, into: &spans)
    }

    /// The spans a connection leaves when it ends: its unfinished operations, or, when it
    /// gave none, one connection span.
    mutating func finish(_ connection: TrackedConnection, at end: UInt64, reason: String, into spans: inout [Span]) {
        var connection = connection
        outputs.removeAll(keepingCapacity: true)
        connection.finishDecoding(at: end, reason: reason, into: &outputs)
        let found = outputs
        outputs.removeAll(keepingCapacity: true)
        for output in found {
            switch output {
            case .operation(let operation):
                connection.operations += 1
                finish(operation, inFlight: connection.takeInFlight(operation.exchangeID), on: connection.ends, into: &spans)
            case .lostSync:
                counters.lostSync += 1
            case .decodeError:
                counters.decodeErrors += 1
            case .requestStarted:
                break
            }
        }
        forgetRequests(of: connection)
        if connection.spansConnection, connection.operations == 0 {
            connectionSpan(for: connection, end: end, into: &spans)
        } else if let context = connection.connectionContext, connection.role == .server {
            linker.serverEnded(pid: connection.pid, tid: connection.tid, digest: connection.connectionDigest, byThread: false, spanID: context.spanID)
        }
        linker.connectionEnded(local: connection.local, peer: connection.peer, role: connection.role)
    }

    /// Requests of a connection that will never finish leave the linker's in-flight state.
    mutating func forgetRequests(of connection: TrackedConnection) {
        guard connection.role == .server else { return }
        for entry in connection.inFlight {
            linker.serverEnded(pid: connection.pid, tid: entry.tid, digest: entry.digest, byThread: true, spanID: entry.context.spanID)
        }
    }

    /// A whole connection as a span, with the bytes the process moved each way.
    mutating func connectionSpan(for connection: TrackedConnection, end: UInt64, into spans: inout [Span]) {
        let kind: Span.Kind = switch connection.role {
        case .server: .server
        case .client: .client
        case .unknown: .internal
        }
        let context: SpanContext
        if let known = connection.connectionContext {
            context = known
            if connection.role == .server {
                linker.serverEnded(pid: connection.pid, tid: connection.tid, digest: connection.connectionDigest, byThread: false, spanID: known.spanID)
            }
        } else {
            context = TraceLinker.root(
                spanID: SpanID.random(using: &generator), traceparent: nil, sampler: configuration.sampler(of: connection.pid), generator: &generator
            )
        }
        let span = Span(
            traceID: context.traceID,
            spanID: context.spanID,
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
        linker.finish(span, context: context, now: end, into: &spans)
    }
}
