extension ConnectionTracker {
    /// One thing a decoder found on the connection in `slot`. Inlined into the one loop that
    /// takes outputs from their list (`receive`): the output passed to a call was moved once more.
    @inline(__always)
    mutating func apply(_ output: consuming ProtocolOutput, slot: Int, into spans: inout [Span]) {
        switch consume output {
        case .requestStarted(let start):
            let context = startRequest(
                start, on: connections.slots[slot].ends, kernel: takeRequestKernelContext(slot: slot),
                beforeFirstAnswer: connections.slots[slot].bytesReceived == 0, otherEndTraced: isOtherEndTraced(slot: slot)
            )
            let entry = TrackedConnection.InFlight(exchangeID: start.exchangeID, context: context, digest: start.requestDigest, tid: start.tid)
            connections.slots[slot].inFlight.append(entry)
        case .operation(var operation):
            connections.slots[slot].operations += 1
            let inFlight = connections.slots[slot].takeInFlight(operation.exchangeID)
            lastFinished = finish(&operation, inFlight: inFlight, on: connections.slots[slot].ends, slot: slot, into: &spans)
        case .lostSync:
            counters.lostSync += 1
        case .decodeError(let reason):
            counters.countDecodeError(protocol: connections.slots[slot].protocolLabel, reason: reason)
        case .opaque:
            counters.opaque += 1
        case .upgraded(let upgrade):
            // The exchange that switched was the last to finish: what follows is its child.
            let spanID = SpanID.random(using: &generator)
            let context = lastFinished.map { TraceLinker.child(of: $0, spanID: spanID) } ?? TraceLinker.root(
                spanID: spanID, traceparent: nil, sampler: configuration.sampler(of: connections.slots[slot].pid), generator: &generator
            )
            connections.slots[slot].continueAfter(upgrade, context: context)
        }
    }

    /// Decides the context of a request when it starts, by the role of its connection's end.
    /// `wholeConnection`: the start of a connection span (its first request bytes), which
    /// parents everything read on its connection and occupies no thread.
    /// `kernel`: the context the kernel decided for it (written on the wire, or remembered for
    /// the server thread), which the span takes as it is.
    /// `beforeFirstAnswer`: a client's requests written before anything came back, when the
    /// server's accept may not have been seen yet (a pipeline written at once after connect):
    /// their contexts are all kept for a server that may turn out to be traced.
    /// `otherEndTraced`: `isTraced` for `ends`, when the caller knows it.
    mutating func startRequest(
        _ start: RequestStart, on ends: TrackedConnection.Ends, wholeConnection: Bool = false, kernel: KernelTraceContext? = nil,
        beforeFirstAnswer: Bool = false, otherEndTraced: Bool? = nil
    ) -> SpanContext {
        // A context the kernel decided for this very request is the span's whatever the request
        // carried (`TraceLinker.decides`): its `traceparent` is read only otherwise.
        let decidedByKernel = kernel.map { !$0.origin.isPerConnection } ?? false
        let traceparent = decidedByKernel ? nil : start.traceContext ?? start.traceparent.flatMap { TraceContext(traceparent: $0) }
        let sampler = configuration.sampler(of: ends.pid)
        let otherEndTraced = otherEndTraced ?? isTraced(local: ends.local, peer: ends.peer)
        switch ends.role {
        case .server:
            return linker.serverStarted(
                pid: ends.pid, tid: start.tid, local: ends.local, peer: ends.peer,
                callerTraced: otherEndTraced, digest: start.requestDigest, streamID: start.streamID,
                traceparent: traceparent, byThread: !wholeConnection, timestamp: start.timestamp,
                kernel: kernel?.origin.isServer == true ? kernel : nil, sampler: sampler, generator: &generator
            )
        case .client:
            let context = linker.clientStarted(
                pid: ends.pid, tid: start.tid, local: ends.local, peer: ends.peer,
                calleeTraced: otherEndTraced || beforeFirstAnswer, digest: start.requestDigest, streamID: start.streamID,
                traceparent: traceparent, perRequest: !wholeConnection,
                kernel: kernel?.origin.isServer == false ? kernel : nil, sampler: sampler, generator: &generator
            )
            // Before the first answer the server's end may be traced but not seen yet (its
            // accept comes after this write on a busy node): its times are kept too, and
            // forgotten at the end when no traced server turned up (`clampEnd`).
            if otherEndTraced || beforeFirstAnswer, !wholeConnection {
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
        let ends = connections.slots[slot].ends
        guard ends.role != .unknown else { return }
        let digest = SpanLinkHints.digest(leadingBytes: event.payload.prefix(64))
        let start = RequestStart(exchangeID: 0, timestamp: event.timestamp, tid: event.tid, requestDigest: digest)
        connections.slots[slot].connectionContext = startRequest(
            start, on: ends, wholeConnection: true, kernel: takeRequestKernelContext(slot: slot), otherEndTraced: isOtherEndTraced(slot: slot)
        )
        connections.slots[slot].connectionDigest = digest
    }

    /// A finished operation as a span, with the context decided when it started (or now,
    /// when its start was never announced). Taken where it lies, not copied: its box of HTTP
    /// details is moved out to the span. `slot`: where the connection is stored, when it still is.
    @discardableResult
    mutating func finish(
        _ operation: inout ProtocolOperation, inFlight: TrackedConnection.InFlight?, on ends: TrackedConnection.Ends, slot: Int? = nil,
        into spans: inout [Span]
    ) -> SpanContext {
        let context = inFlight?.context ?? startRequest(
            RequestStart(operation),
            on: ends, otherEndTraced: slot.map { isOtherEndTraced(slot: $0) }
        )
        if ends.role == .server {
            let (tid, digest) = inFlight.map { ($0.tid, $0.digest) } ?? (operation.tid, operation.requestDigest)
            linker.serverEnded(pid: ends.pid, tid: tid, digest: digest, byThread: true, spanID: context.spanID)
        }
        let kind: Span.Kind = switch ends.role {
        case .client: .client
        case .server: .server
        case .unknown: .internal
        }
        var start = clock.unixNanos(fromMonotonic: operation.start)
        var end = clock.unixNanos(fromMonotonic: max(operation.end, operation.start))
        if kind == .client, linker.clampEnd(&end, of: context.spanID),
           !(slot.map { isOtherEndTraced(slot: $0) } ?? isTraced(local: ends.local, peer: ends.peer)) {
            linker.forgetCaller(context.spanID)
        }
        // Settled before it is built, so that it is built once, whole, where it leaves by: the
        // memberwise initializer writes it into the list's storage (an initializer with a body
        // builds it aside and copies it there), and nothing is changed in the list after.
        // A context that never was provisional (the usual one) stands as it is: asking the
        // linker copies the whole linker (some 300 bytes) to pass it.
        let settled = context.provisional == 0 ? context : linker.current(context)
        if let settled, kind == .server { linker.keepInsideCaller(start: &start, end: &end, settled) }
        let shown = settled ?? context
        spans.append(Span(
            traceID: shown.traceID,
            spanID: shown.spanID,
            parentSpanID: shown.parentSpanID,
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
            // The operation's box of details becomes the span's, neither copied nor allocated again.
            http: operation.http.take(),
            protocolAttributes: operation.attributes,
            incoming: shown.incoming,
            parentIsLocal: shown.parentIsLocal
        ))
        // A span whose trace is still provisional waits (`TraceLinker.holdLast`).
        if settled == nil { linker.holdLast(of: &spans, context: context, now: operation.end) }
        return context
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
            case .operation(var operation):
                connection.operations += 1
                finish(&operation, inFlight: connection.takeInFlight(operation.exchangeID), on: connection.ends, into: &spans)
            case .lostSync:
                counters.lostSync += 1
            case .decodeError(let reason):
                counters.countDecodeError(protocol: connection.protocolLabel, reason: reason)
            case .opaque:
                counters.opaque += 1
            case .requestStarted, .upgraded:
                break
            }
        }
        forgetRequests(of: connection)
        if let continuation = connection.continuation {
            continuationSpan(for: connection, continuation, end: end, into: &spans)
        } else if connection.spansConnection, connection.operations == 0, !connection.handedOffUnused {
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

    /// What a connection carried after it switched protocols, as one span with the bytes
    /// moved each way since.
    mutating func continuationSpan(
        for connection: TrackedConnection, _ continuation: TrackedConnection.Continuation, end: UInt64, into spans: inout [Span]
    ) {
        let kind: Span.Kind = switch connection.role {
        case .server: .server
        case .client: .client
        case .unknown: .internal
        }
        let span = Span(
            traceID: continuation.context.traceID,
            spanID: continuation.context.spanID,
            kind: kind,
            name: continuation.name,
            startTimeUnixNano: clock.unixNanos(fromMonotonic: continuation.start),
            endTimeUnixNano: clock.unixNanos(fromMonotonic: max(end, continuation.start)),
            pid: connection.pid,
            tid: connection.tid,
            local: connection.local,
            peer: connection.peer,
            tcp: TCPDetails(
                bytesSent: connection.bytesSent - continuation.bytesSent,
                bytesReceived: connection.bytesReceived - continuation.bytesReceived
            )
        )
        linker.finish(consume span, context: continuation.context, now: end, into: &spans)
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
        linker.finish(consume span, context: context, now: end, into: &spans)
    }
}
