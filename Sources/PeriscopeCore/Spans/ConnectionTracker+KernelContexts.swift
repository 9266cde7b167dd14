/// Contexts the kernel decided (`KernelTraceContext`) reach the tracker in the data event of
/// the read or write they belong to (`CaptureEvent.kernelContext`), or, in a report of their
/// own, just before it, from the same thread: those wait here for it, one per thread. The
/// request that event starts takes it.
extension ConnectionTracker {
    struct KernelContextKey: FixedKey {
        var pid: Int32
        var tid: Int32

        var folded: UInt64 { UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: tid)) }
    }

    struct PendingKernelContext: Sendable {
        var context: KernelTraceContext
        /// The socket a server read on; 0 for a write.
        var socketID: UInt64
        /// The local port of the socket a client wrote on.
        var localPort: UInt16
    }

    /// Threads with a context waiting at most; beyond it they are all forgotten (each waits
    /// only for its own next event, so only lost events leave one behind).
    static var maxPendingKernelContexts: Int { 65536 }

    mutating func noteKernelContext(_ context: KernelTraceContext, from event: CaptureEvent) {
        let key = KernelContextKey(pid: event.pid, tid: event.tid)
        let pending = PendingKernelContext(context: context, socketID: event.socketID, localPort: event.local.port)
        // The thread's next event is almost always the very next one: the context waits in
        // `latestKernelContext`, without hashing, and moves to the table only when another
        // thread's report comes first.
        if !pendingKernelContexts.isEmpty { pendingKernelContexts[key] = nil }
        if let latest = latestKernelContext, latest.key != key {
            if pendingKernelContexts.count >= Self.maxPendingKernelContexts { pendingKernelContexts.removeAll() }
            pendingKernelContexts[latest.key] = latest.pending
        }
        latestKernelContext = (key, pending)
        counters.kernelContexts += 1
    }

    /// Hands the context waiting for this event to its connection: for the request the event
    /// starts, or, for an option's, for the connection's first request, whenever it starts.
    /// The event is taken in place (`handle(inPlace:into:)`) and not changed.
    mutating func attachKernelContext(for event: inout CaptureEvent, direction: Direction, slot: Int) {
        let reported = latestKernelContext == nil && pendingKernelContexts.isEmpty
            ? nil : takeKernelContext(pid: event.pid, tid: event.tid, socketID: event.socketID, localPort: event.local.port, direction: direction)
        if event.kernelContext != nil { counters.kernelContexts += 1 }
        guard let context = event.kernelContext ?? reported else { return }
        if context.origin.isPerConnection {
            connections.slots[slot].connectionKernelContext = context
        } else {
            connections.slots[slot].kernelContext = context
        }
    }

    /// The kernel's context for a request starting on the connection in `slot`, taken.
    mutating func takeRequestKernelContext(slot: Int) -> KernelTraceContext? {
        // The stored connection written only when it holds one (the usual request has none).
        guard connections.slots[slot].kernelContext != nil || connections.slots[slot].connectionKernelContext != nil else { return nil }
        if let context = connections.slots[slot].kernelContext.take() { return context }
        return connections.slots[slot].connectionKernelContext.take()
    }

    /// The context waiting for this read or write of the thread, if it is the one it was
    /// decided for: a server context for a read on its socket, an injected one for a write on
    /// its port. Any other waiting context of the thread is stale and dropped.
    mutating func takeKernelContext(pid: Int32, tid: Int32, socketID: UInt64, localPort: UInt16, direction: Direction) -> KernelTraceContext? {
        let key = KernelContextKey(pid: pid, tid: tid)
        let pending: PendingKernelContext
        if let latest = latestKernelContext, latest.key == key {
            pending = latest.pending
            latestKernelContext = nil
        } else if !pendingKernelContexts.isEmpty, let waiting = pendingKernelContexts.removeValue(forKey: key) {
            pending = waiting
        } else {
            return nil
        }
        switch (pending.context.origin.isServer, direction) {
        case (true, .ingress) where pending.socketID == socketID:
            return pending.context
        case (false, .egress) where pending.localPort == localPort:
            return pending.context
        default:
            counters.kernelContextsUnmatched += 1
            return nil
        }
    }
}
