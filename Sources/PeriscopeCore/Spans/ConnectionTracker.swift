/// Turns the kernel's socket events into spans: one per operation a protocol decoder
/// finds (an HTTP exchange, …), or one per connection for anything else.
///
/// Each span's trace context is decided when its request starts (`TraceLinker`), and the
/// span leaves as soon as it ends, with its parent set; only spans whose caller's context
/// is late wait, for at most the linker's reorder window (`advance(now:into:)` lets them out).
///
/// A pure state machine: `handle(_:into:)` takes one `CaptureEvent` and appends the spans it
/// finished. Connections are keyed by (pid, fd); a data event whose `socketID` differs from
/// the stored one means the fd was reused. A connection belongs to whichever process reads
/// and writes it: its state moves with the socket to another descriptor (a forked child's,
/// one passed with SCM_RIGHTS) without splitting the exchange (`ConnectionTracker+Handoff`).
/// Random ids come from `generator`, so tests can seed it. Not generic: the capture thread
/// runs it for every event, and a generic tracker called from another module runs
/// unspecialized, its dictionaries hashing through witness tables.
public struct ConnectionTracker: Sendable {
    public var configuration: ConnectionTrackerConfiguration
    /// Maps kernel monotonic timestamps to Unix time when spans are built.
    public var clock: ClockMapping
    public internal(set) var counters = ConnectionTrackerCounters()
    public internal(set) var linker: TraceLinker
    var generator: FastRandom
    var connections = ConnectionTable()
    /// Connections whose descriptor closed while another still holds the socket, by socket,
    /// until a process uses it (it is theirs then) or its last descriptor closes.
    var handedOff: [UInt64: TrackedConnection] = [:]
    /// How many tracked sockets have each (local, peer) pair: whether the other end of a
    /// connection is traced on this node.
    var endpoints = FixedKeyTable<EndpointPair, Int>()
    /// Changes whenever `endpoints` does: what a connection learnt about its other end
    /// (`isOtherEndTraced(slot:)`) holds until then.
    var endpointsVersion: UInt64 = 1
    /// Reused for each event's decoder output.
    var outputs: [ProtocolOutput] = []
    /// The context of the operation that finished last: the parent of what a connection
    /// carries after the exchange that switched its protocol.
    var lastFinished: SpanContext?
    /// Contexts the kernel decided, waiting for their thread's next event.
    var pendingKernelContexts = FixedKeyTable<KernelContextKey, PendingKernelContext>()
    /// The context reported last, while it waits for its thread's next event.
    var latestKernelContext: (key: KernelContextKey, pending: PendingKernelContext)?

    struct EndpointPair: FixedKey {
        var local: SocketAddress
        var peer: SocketAddress

        var folded: UInt64 { local.folded &* 0xff51_afd7_ed55_8ccd ^ peer.folded }
    }

    public init(
        configuration: ConnectionTrackerConfiguration = .init(), linker: TraceLinker.Configuration = .init(),
        clock: ClockMapping, generator: FastRandom = FastRandom()
    ) {
        self.configuration = configuration
        self.linker = TraceLinker(configuration: linker)
        self.clock = clock
        self.generator = generator
    }

    /// Takes one event; returns the spans it finished.
    public mutating func handle(_ event: CaptureEvent) -> [Span] {
        var spans: [Span] = []
        handle(event, into: &spans)
        return spans
    }

    /// Takes one event; appends the spans it finished to `spans`.
    public mutating func handle(_ event: CaptureEvent, into spans: inout [Span]) {
        var event = event
        handle(inPlace: &event, into: &spans)
    }

    /// `handle(_:into:)` for an event the caller keeps in a variable (the capture loop's one
    /// reused event): taken where it lies and not changed. Passed as a plain argument, a
    /// variable's event (some 300 bytes) is copied whole at each call; passed in place, it is
    /// read where it is down to the decoder.
    public mutating func handle(inPlace event: inout CaptureEvent, into spans: inout [Span]) {
        let before = spans.count
        switch event.kind {
        case .opened(let role):
            if let handle = connections.handle(pid: event.pid, fd: event.fd) {
                // connect() again on a connected socket says nothing new.
                let existing = connections.slots[handle].ends
                if connections.slots[handle].socketID == event.socketID, existing.role == role,
                   existing.local == event.local, existing.peer == event.peer {
                    break
                }
                if let previous = remove(pid: event.pid, fd: event.fd) {
                    finish(previous, at: previous.lastActivity, reason: ConnectionEndReason.closed, into: &spans)
                }
            }
            insert(TrackedConnection(event: event, role: role, protocols: configuration.protocols(of: event.pid)))
        case .data(let direction):
            receive(&event, direction: direction, into: &spans)
        case .closed where event.socketStillOpen:
            handOff(pid: event.pid, fd: event.fd, at: event.timestamp, into: &spans)
        case .closed:
            if let connection = remove(pid: event.pid, fd: event.fd) ?? takeHandedOff(event.socketID) {
                finish(connection, at: max(event.timestamp, connection.lastActivity), reason: ConnectionEndReason.closed, into: &spans)
            }
        case .processExited:
            let ended = connections.removeAll(of: event.pid)
            counters.openConnections -= ended.count
            for connection in ended { unindex(connection.ends) }
            for connection in ended.sorted(by: TrackedConnection.openedBefore) {
                finish(connection, at: max(event.timestamp, connection.lastActivity), reason: ConnectionEndReason.processExited, into: &spans)
            }
        case .closedRange(let last):
            let closed = connections.descriptors(of: event.pid).filter { $0 >= event.fd && $0 <= last }
            // A socket another process still holds (a forked child closing what it
            // inherited) is handed off, not ended.
            let held = closed.filter {
                let bit = Int64($0) - Int64(event.fd)
                return bit < 64 && (event.descriptorsStillHeld >> UInt64(bit)) & 1 != 0
            }
            for fd in held { handOff(pid: event.pid, fd: fd, at: event.timestamp, into: &spans) }
            close(pid: event.pid, descriptors: closed.filter { !held.contains($0) }, at: event.timestamp, into: &spans)
        case .processExec:
            // Descriptors marked close-on-exec were closed by the exec.
            guard let open = event.descriptorsOpenAfterExec else { break }
            let closed = connections.descriptors(of: event.pid).filter { (0..<64).contains($0) && open & (1 << UInt64($0)) == 0 }
            close(pid: event.pid, descriptors: closed, at: event.timestamp, into: &spans)
        case .processForked:
            break
        case .traceContext(let context):
            noteKernelContext(context, from: event)
        }
        counters.spansEmitted += spans.count - before
    }

    /// Ends the connections of `pid` on `descriptors`, closed at once at `timestamp`.
    private mutating func close(pid: Int32, descriptors: [Int32], at timestamp: UInt64, into spans: inout [Span]) {
        var ended = descriptors.compactMap { remove(pid: pid, fd: $0) }
        ended.sort(by: TrackedConnection.openedBefore)
        for connection in ended {
            finish(connection, at: max(timestamp, connection.lastActivity), reason: ConnectionEndReason.closed, into: &spans)
        }
    }

    /// Lets out spans that waited for a late caller's context, once it came or the reorder
    /// window passed, as of `now` (monotonic).
    public mutating func advance(now: UInt64, into spans: inout [Span]) {
        let before = spans.count
        linker.release(now: now, into: &spans)
        counters.spansEmitted += spans.count - before
    }

    /// Ends every connection, for shutdown: operations still open get `reason`, other
    /// connections their connection span ending at `monotonicNanos`.
    public mutating func finishAll(at monotonicNanos: UInt64, reason: String) -> [Span] {
        let all = (connections.removeAll() + handedOff.values).sorted(by: TrackedConnection.openedBefore)
        handedOff.removeAll()
        endpoints.removeAll()
        endpointsVersion &+= 1
        counters.openConnections = 0
        var spans: [Span] = []
        for connection in all {
            finish(connection, at: max(monotonicNanos, connection.lastActivity), reason: reason, into: &spans)
        }
        linker.releaseAll(into: &spans)
        linker.reset()
        counters.spansEmitted += spans.count
        return spans
    }

    /// The connections without activity for `idleNanos` as of `now`, by pid and descriptor: those
    /// `expireIdle` asks about. Checked before the events queued since the last read are taken,
    /// a socket found gone then has all it carried read before its connection is ended.
    public func idleConnections(now: UInt64, idleNanos: UInt64) -> [(pid: Int32, fd: Int32)] {
        idle(now: now, idleNanos: idleNanos).map { (pid: $0.pid, fd: $0.fd) }
    }

    private func idle(now: UInt64, idleNanos: UInt64) -> [TrackedConnection] {
        connections.all.filter { now >= $0.idleSince && now - $0.idleSince >= idleNanos }
    }

    /// Ends connections without activity for `idleNanos`, as of `now`; they end at their last activity.
    /// `stillOpen(pid, fd)` says whether the process still holds a socket there: a keep-alive
    /// connection idle between requests stays one connection, checked again an idle period
    /// later; expiry is for connections whose end was not seen.
    public mutating func expireIdle(
        now: UInt64, idleNanos: UInt64, stillOpen: (_ pid: Int32, _ fd: Int32) -> Bool = { _, _ in false }
    ) -> [Span] {
        let candidates = idle(now: now, idleNanos: idleNanos).sorted(by: TrackedConnection.openedBefore)
        var spans: [Span] = []
        for connection in candidates {
            if stillOpen(connection.pid, connection.fd), let handle = connections.handle(pid: connection.pid, fd: connection.fd) {
                connections.slots[handle].confirmedOpen = now
                continue
            }
            _ = remove(pid: connection.pid, fd: connection.fd)
            finish(connection, at: connection.lastActivity, reason: ConnectionEndReason.idle, into: &spans)
        }
        for connection in expireHandedOff(now: now, idleNanos: idleNanos) {
            finish(connection, at: connection.lastActivity, reason: ConnectionEndReason.idle, into: &spans)
        }
        counters.spansEmitted += spans.count
        return spans
    }

    /// A read or write: decoded on the connection where it is stored. The event is taken in
    /// place (`handle(inPlace:into:)`) and not changed.
    private mutating func receive(_ event: inout CaptureEvent, direction: Direction, into spans: inout [Span]) {
        var handle = connections.handle(pid: event.pid, fd: event.fd)
        if let existing = handle, connections.slots[existing].socketID != event.socketID {
            if let previous = remove(pid: event.pid, fd: event.fd) {
                finish(previous, at: previous.lastActivity, reason: ConnectionEndReason.closed, into: &spans)
            }
            handle = nil
        }
        if handle == nil { handle = adopt(event, into: &spans) }
        let slot = handle ?? insert(TrackedConnection(event: event, role: .unknown, protocols: configuration.protocols(of: event.pid)))
        // Empty already but after a decoder stopped midway: emptying an empty list still costs.
        if !outputs.isEmpty { outputs.removeAll(keepingCapacity: true) }
        attachKernelContext(for: &event, direction: direction, slot: slot)
        // Cleared only where set (the usual event carries none): a write to the table checks
        // that its storage is not shared.
        defer { if connections.slots[slot].kernelContext != nil { connections.slots[slot].kernelContext = nil } }
        if event.resumedAfterShedding { connections.slots[slot].restartDecoding(at: event.timestamp, into: &outputs) }
        // One in-place access to the stored connection: reading its fields through the table
        // one at a time would copy it whole.
        let received = connections.slots[slot].receiveNoting(&event, direction: direction, configuration: configuration.protocolConfiguration, into: &outputs)
        if let before = received.endsBefore {
            unindex(before)
            index(connections.slots[slot].ends)
        }
        if received.startsConnectionSpan { startConnectionSpan(slot: slot, event: event) }
        guard !outputs.isEmpty else { return }
        // Outputs are few and short-lived: swapped out, and each moved out of the list
        // (reversed, then taken from the end) rather than copied and released twice. The
        // usual read or write gives one: nothing to reverse.
        var found: [ProtocolOutput] = []
        swap(&found, &outputs)
        lastFinished = nil
        if found.count == 1 {
            apply(found.removeLast(), slot: slot, into: &spans)
        } else {
            found.reverse()
            while let output = found.popLast() { apply(output, slot: slot, into: &spans) }
        }
        if outputs.isEmpty { swap(&found, &outputs) }
    }

    mutating func remove(pid: Int32, fd: Int32) -> TrackedConnection? {
        guard let connection = connections.remove(pid: pid, fd: fd) else { return nil }
        counters.openConnections -= 1
        unindex(connection.ends)
        return connection
    }

    @discardableResult
    private mutating func insert(_ connection: TrackedConnection) -> Int {
        if counters.openConnections >= max(1, configuration.maxConnections) { evictLeastRecentlyActive() }
        counters.openConnections += 1
        index(connection.ends)
        return connections.insert(connection)
    }

    private mutating func index(_ connection: TrackedConnection.Ends) {
        endpoints[slot: endpoints.slot(forKey: EndpointPair(local: connection.local, peer: connection.peer), default: 0)] += 1
        endpointsVersion &+= 1
    }

    mutating func unindex(_ connection: TrackedConnection.Ends) {
        let pair = EndpointPair(local: connection.local, peer: connection.peer)
        if let count = endpoints[pair] { endpoints[pair] = count > 1 ? count - 1 : nil }
        endpointsVersion &+= 1
    }

    /// Whether the other end of a connection from `local` to `peer` is a socket traced here.
    func isTraced(local: SocketAddress, peer: SocketAddress) -> Bool {
        endpoints[EndpointPair(local: peer, peer: local)] != nil
    }

    /// `isTraced` for the connection in `slot`, looked up once while the tracked endpoints stay
    /// as they are (a keep-alive connection's requests ask again and again), not at each request.
    mutating func isOtherEndTraced(slot: Int) -> Bool {
        if connections.slots[slot].otherEndCheckedAt == endpointsVersion { return connections.slots[slot].otherEndTraced }
        let traced = isTraced(local: connections.slots[slot].local, peer: connections.slots[slot].peer)
        connections.slots[slot].otherEndCheckedAt = endpointsVersion
        connections.slots[slot].otherEndTraced = traced
        return traced
    }

    /// Drops a sixteenth of the limit at once, least recently active first, so that a full
    /// table costs one sort per many new connections rather than a scan per connection.
    private mutating func evictLeastRecentlyActive() {
        let count = max(1, configuration.maxConnections / 16)
        let victims = connections.all
            .sorted(by: TrackedConnection.activeBefore)
            .prefix(count)
        for victim in victims {
            _ = remove(pid: victim.pid, fd: victim.fd)
            forgetRequests(of: victim)
        }
        counters.connectionsEvicted += victims.count
    }
}
