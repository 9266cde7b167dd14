extension TraceLinker {
    /// The context of a request a server starts to read (or of the first bytes a server
    /// connection span reads).
    /// - Parameters:
    ///   - callerTraced: the client end of the connection is a socket traced on this node
    ///     that publishes its requests' contexts; when none is published yet, the request
    ///     waits for it under a provisional trace.
    ///   - byThread: the request occupies its thread until it ends (decoded exchanges, not
    ///     connection spans), so calls from the thread meanwhile may be its children.
    ///   - kernel: the context the kernel decided when the thread read the request, which the
    ///     calls the thread makes carry on the wire: taken as it is (its parent is local when
    ///     it is the caller's published span).
    public mutating func serverStarted<G: RandomNumberGenerator>(
        pid: Int32, tid: Int32, local: SocketAddress, peer: SocketAddress, callerTraced: Bool,
        digest: UInt64?, streamID: UInt32? = nil, traceparent: TraceContext?, byThread: Bool,
        timestamp: UInt64, kernel: KernelTraceContext? = nil, sampler: Sampler, generator: inout G
    ) -> SpanContext {
        let spanID = kernel?.spanID ?? SpanID.random(using: &generator)
        let key = HopKey(client: peer, server: local)
        var context: SpanContext
        if let kernel, Self.decides(kernel, traceparent: traceparent) {
            // The kernel's span id stands: the calls the thread makes carry it on the wire. A
            // caller traced on this node is the parent when the request's `traceparent` is of
            // its trace or names it (a proxy forwards its caller's header, which names that
            // caller's caller), and also when the request carried none, so that the kernel
            // began a trace (the caller's write went out without one: its socket was not yet
            // in the kernel's map): a hop on one node links whatever was written into it.
            context = kernel.spanContext
            let caller = takePublished(key, streamID: streamID)
            let began = kernel.parentSpanID == nil
            if let caller, began || (kernel.parentIsRemote && (caller.traceID == kernel.traceID || caller.spanID == kernel.parentSpanID)) {
                context = Self.child(of: caller, spanID: kernel.spanID)
            } else if caller == nil, callerTraced, began || kernel.parentIsRemote {
                wait(&context, key: key, streamID: streamID, timestamp: timestamp)
            }
        } else if let caller = takePublished(key, streamID: streamID) {
            context = Self.child(of: caller, spanID: spanID)
        } else {
            context = Self.root(spanID: spanID, traceparent: traceparent, sampler: sampler, generator: &generator)
            if callerTraced { wait(&context, key: key, streamID: streamID, timestamp: timestamp) }
        }
        if let digest {
            let key = DigestKey(pid: pid, digest: digest)
            let server = InFlightServer(context: context, forwarded: false)
            // One probe finds the entry or where a new one goes.
            let (entry, found) = servers.find(key)
            if found {
                if servers[slot: entry].more.capacity == 0 { servers[slot: entry].more = spareServerLists.take() }
                servers[slot: entry].more.append(server)
            } else {
                servers.insert(key, InFlightServers(first: server), at: entry)
            }
        }
        if byThread {
            let thread = ThreadKey(pid: pid, tid: tid)
            let (slot, found) = threads.find(thread)
            if found {
                if multiplexed.count >= Self.maxMultiplexed { multiplexed.removeAll() }
                multiplexed[thread] = true
                threads[slot: slot].count += 1
                threads[slot: slot].context = context
            } else {
                threads.insert(thread, ThreadServing(count: 1, context: context), at: slot)
            }
        }
        counters.requestsInFlight += 1
        return context
    }

    /// Puts a server request whose traced caller's context has not arrived yet under a
    /// provisional trace that the caller's context resolves.
    mutating func wait(_ context: inout SpanContext, key: HopKey, streamID: UInt32?, timestamp: UInt64) {
        let number = nextProvisional
        nextProvisional += 1
        context.provisional = number
        // From when the read is seen, not when it happened: a writer's event is stamped at
        // the end of its write, and a writer preempted there (a loaded machine) comes later
        // than its reader by however long it waited for a CPU, whatever the agent's lag.
        waiting[number] = max(timestamp, releasedAt) &+ configuration.reorderWindowNanos
        hops[slot: hops.slot(forKey: key, default: Hop())].waiting.append(Waiting(provisional: number, spanID: context.spanID, streamID: streamID))
        counters.provisionalTraces += 1
    }

    /// A server request (or connection span) ended: calls made from now on are not its children.
    /// Takes what `serverStarted` was given.
    public mutating func serverEnded(pid: Int32, tid: Int32, digest: UInt64?, byThread: Bool, spanID: SpanID) {
        if let digest {
            // Changed in place: a copy of the list out of the table would copy its storage.
            let key = DigestKey(pid: pid, digest: digest)
            if let entry = servers.index(forKey: key), let index = servers[slot: entry].firstIndex(where: { $0.context.spanID == spanID }) {
                if servers[slot: entry].count == 1 {
                    let more = servers.removeValue(at: entry).more
                    if more.capacity > 0 { spareServerLists.keep(more) }
                } else {
                    servers[slot: entry].remove(at: index)
                }
            }
        }
        if byThread {
            let thread = ThreadKey(pid: pid, tid: tid)
            if let slot = threads.index(forKey: thread) {
                if threads[slot: slot].count > 1 {
                    threads[slot: slot].count -= 1
                } else {
                    threads.removeValue(at: slot)
                }
            }
        }
        counters.requestsInFlight = max(0, counters.requestsInFlight - 1)
    }

    /// The context of a request a client starts to write (or of the first bytes a client
    /// connection span writes), published for the server end of the connection.
    /// - Parameters:
    ///   - perRequest: each request is read by one server request (decoded exchanges);
    ///     false for a connection span, the parent of everything read on the connection.
    ///   - calleeTraced: the server end is a socket traced on this node. Until it is,
    ///     one context at most is kept for it.
    ///   - kernel: the context the kernel wrote into the request as `traceparent`: taken as it is.
    public mutating func clientStarted<G: RandomNumberGenerator>(
        pid: Int32, tid: Int32, local: SocketAddress, peer: SocketAddress, calleeTraced: Bool,
        digest: UInt64?, streamID: UInt32? = nil, traceparent: TraceContext?, perRequest: Bool,
        kernel: KernelTraceContext? = nil, sampler: Sampler, generator: inout G
    ) -> SpanContext {
        let spanID = kernel?.spanID ?? SpanID.random(using: &generator)
        let parent = inProcessParent(pid: pid, tid: tid, digest: digest)
        let context: SpanContext
        if let kernel, Self.decides(kernel, traceparent: traceparent) {
            // The kernel's ids, in the trace its parent was linked into on this node when that
            // differs from the one the kernel began for it.
            var adopted = kernel.spanContext
            if let parent, parent.spanID == kernel.parentSpanID, parent.traceID != kernel.traceID {
                adopted.traceID = parent.traceID
                adopted.provisional = parent.provisional
            }
            context = adopted
        } else if let traceparent, parent?.traceID != traceparent.traceID {
            context = Self.root(spanID: spanID, traceparent: traceparent, sampler: sampler, generator: &generator)
        } else if let parent {
            context = Self.child(of: parent, spanID: spanID)
        } else {
            context = Self.root(spanID: spanID, traceparent: nil, sampler: sampler, generator: &generator)
        }
        publish(context, on: HopKey(client: local, server: peer), streamID: streamID, perRequest: perRequest, calleeTraced: calleeTraced)
        return context
    }

    /// Forgets a connection's hop, when either end closes.
    public mutating func connectionEnded(local: SocketAddress, peer: SocketAddress, role: ConnectionRole) {
        guard !hops.isEmpty else { return }
        switch role {
        case .client: hops[HopKey(client: local, server: peer)] = nil
        case .server: hops[HopKey(client: peer, server: local)] = nil
        case .unknown:
            hops[HopKey(client: local, server: peer)] = nil
            hops[HopKey(client: peer, server: local)] = nil
        }
    }

    /// Everything forgotten, for shutdown.
    public mutating func reset() {
        hops.removeAll()
        servers.removeAll()
        threads.removeAll()
        multiplexed.removeAll()
        counters.requestsInFlight = 0
    }

    // MARK: - Rules

    /// Whether a context the kernel decided is the span's. One written into the request as
    /// `traceparent`, or remembered for the thread that read it, always is. One carried in a
    /// TCP option is the connection's, decided where the payload could not be edited: a
    /// request that carries its own `traceparent` (an HTTP/2 or gRPC client instrumented by
    /// an SDK) keeps that trace, on both ends, and only the span id is the kernel's.
    static func decides(_ kernel: KernelTraceContext, traceparent: TraceContext?) -> Bool {
        !(kernel.origin.isPerConnection && traceparent != nil)
    }

    static func child(of parent: SpanContext, spanID: SpanID) -> SpanContext {
        var context = SpanContext(traceID: parent.traceID, spanID: spanID, parentSpanID: parent.spanID, sampled: parent.sampled, parentIsLocal: true)
        context.provisional = parent.provisional
        return context
    }

    /// A trace beginning here: the incoming `traceparent`'s, or a new one.
    static func root<G: RandomNumberGenerator>(
        spanID: SpanID, traceparent: TraceContext?, sampler: Sampler, generator: inout G
    ) -> SpanContext {
        if let traceparent {
            return SpanContext(
                traceID: traceparent.traceID, spanID: spanID, parentSpanID: traceparent.parentID,
                sampled: sampler.shouldSample(traceID: traceparent.traceID, parent: traceparent)
            )
        }
        let traceID = TraceID.random(using: &generator)
        return SpanContext(traceID: traceID, spanID: spanID, sampled: sampler.shouldSample(traceID: traceID, parent: nil))
    }

    /// The incoming request an outgoing one serves: the oldest one in flight in the process
    /// that carried the same request and was not forwarded yet, else the one request the
    /// thread is serving.
    mutating func inProcessParent(pid: Int32, tid: Int32, digest: UInt64?) -> SpanContext? {
        if let digest, !servers.isEmpty {
            if let entry = servers.index(forKey: DigestKey(pid: pid, digest: digest)),
               let index = servers[slot: entry].firstIndex(where: { !$0.forwarded }) {
                servers[slot: entry][index].forwarded = true
                return servers[slot: entry][index].context
            }
        }
        let thread = ThreadKey(pid: pid, tid: tid)
        // Most threads are not event loops: the table of those is usually empty, not probed.
        if !threads.isEmpty, let slot = threads.index(forKey: thread), threads[slot: slot].count == 1,
           multiplexed.isEmpty || multiplexed[thread] == nil {
            return threads[slot: slot].context
        }
        return nil
    }

    /// The caller's context for a request the server starts to read: a connection span's,
    /// or the oldest request published (of the same stream, where there are streams).
    mutating func takePublished(_ key: HopKey, streamID: UInt32?) -> SpanContext? {
        // Changed in place, through the entry's slot: reading the hop out of the table
        // would copy it, lists and all.
        guard let entry = hops.index(forKey: key) else { return nil }
        return hops[slot: entry].takeCaller(streamID: streamID)
    }

    mutating func publish(_ context: SpanContext, on key: HopKey, streamID: UInt32?, perRequest: Bool, calleeTraced: Bool) {
        // Changed in place, through the entry's slot (see `takePublished`).
        let entry = hops.slot(forKey: key, default: Hop())
        if perRequest {
            if let resolved = hops[slot: entry].takeWaiting(streamID: streamID, stillWaiting: waiting) {
                resolve(resolved, by: context)
            } else {
                // A multiplexing client (HTTP/2) writes many streams before the server's
                // accept is seen: each stream's context waits for its own server request.
                let limit = calleeTraced || streamID != nil ? Self.maxPublished : 1
                hops[slot: entry].publish(Published(context: context, streamID: streamID), keeping: limit)
            }
        } else {
            let resolved = hops[slot: entry].stick(context, stillWaiting: waiting)
            for waiter in resolved { resolve(waiter, by: context) }
        }
    }

    mutating func resolve(_ entry: Waiting, by caller: SpanContext) {
        waiting[entry.provisional] = nil
        resolutions[Int(entry.provisional % UInt64(resolutions.count))] = Resolution(
            provisional: entry.provisional, root: entry.spanID, traceID: caller.traceID,
            parentSpanID: caller.spanID, sampled: caller.sampled, next: caller.provisional
        )
        counters.provisionalResolved += 1
    }
}
