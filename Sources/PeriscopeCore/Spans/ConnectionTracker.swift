/// Turns the kernel's socket events into spans: one per HTTP/1.x exchange, or one per
/// connection for anything else.
///
/// A pure state machine: `handle(_:)` takes one `CaptureEvent` and returns the spans it
/// finished. Connections are keyed by (pid, fd); a data event whose `socketID` differs from
/// the stored one means the fd was reused. Random ids come from `Generator`, so tests can
/// inject a seeded one.
public struct ConnectionTracker<Generator: RandomNumberGenerator> {
    public var configuration: ConnectionTrackerConfiguration
    /// Maps kernel monotonic timestamps to Unix time when spans are built.
    public var clock: ClockMapping
    public private(set) var counters = ConnectionTrackerCounters()
    var generator: Generator
    /// pid → fd → connection.
    var connections: [Int32: [Int32: TrackedConnection]] = [:]
    /// How many tracked sockets have each (local, peer) pair: whether the other end of a
    /// connection is traced on this node.
    var endpoints: [EndpointPair: Int] = [:]
    /// How many accepted connections each process has.
    var serving: [Int32: Int] = [:]
    /// How many other connections (made, or of unknown role) each process has.
    var calling: [Int32: Int] = [:]

    struct EndpointPair: Hashable, Sendable {
        var local: SocketAddress
        var peer: SocketAddress
    }

    public init(configuration: ConnectionTrackerConfiguration = .init(), clock: ClockMapping, generator: Generator) {
        self.configuration = configuration
        self.clock = clock
        self.generator = generator
    }

    /// Takes one event; returns the spans it finished.
    public mutating func handle(_ event: CaptureEvent) -> [Span] {
        guard !configuration.protocols.isEmpty else { return [] }
        var spans: [Span] = []
        switch event.kind {
        case .opened(let role):
            if let previous = remove(pid: event.pid, fd: event.fd) {
                spans += finish(previous, at: previous.lastActivity, reason: ConnectionEndReason.closed)
            }
            insert(TrackedConnection(event: event, role: role, protocols: configuration.protocols(of: event.pid)))
        case .data(let direction):
            if let found = receiveInPlace(event, direction: direction) {
                spans = found
                break
            }
            var connection: TrackedConnection
            if let existing = remove(pid: event.pid, fd: event.fd) {
                if existing.socketID == event.socketID {
                    connection = existing
                } else {
                    spans += finish(existing, at: existing.lastActivity, reason: ConnectionEndReason.closed)
                    connection = TrackedConnection(event: event, role: .unknown, protocols: configuration.protocols(of: event.pid))
                }
            } else {
                connection = TrackedConnection(event: event, role: .unknown, protocols: configuration.protocols(of: event.pid))
            }
            let events = connection.receive(event, direction: direction)
            spans += apply(events, to: &connection)
            insert(connection)
        case .closed:
            if let connection = remove(pid: event.pid, fd: event.fd) {
                spans += finish(connection, at: max(event.timestamp, connection.lastActivity), reason: ConnectionEndReason.closed)
            }
        case .processExited:
            let ended = (connections.removeValue(forKey: event.pid) ?? [:]).values
            counters.openConnections -= ended.count
            for connection in ended { unindex(connection.ends) }
            for connection in ended.sorted(by: TrackedConnection.openedBefore) {
                spans += finish(connection, at: max(event.timestamp, connection.lastActivity), reason: ConnectionEndReason.processExited)
            }
        case .processExec:
            break
        }
        counters.spansEmitted += spans.count
        return spans
    }

    /// Ends every connection, for shutdown: exchanges still waiting get `reason`, other
    /// connections their connection span ending at `monotonicNanos`.
    public mutating func finishAll(at monotonicNanos: UInt64, reason: String) -> [Span] {
        let all = connections.values.flatMap(\.values).sorted(by: TrackedConnection.openedBefore)
        connections.removeAll()
        endpoints.removeAll()
        serving.removeAll()
        calling.removeAll()
        counters.openConnections = 0
        var spans: [Span] = []
        for connection in all {
            spans += finish(connection, at: max(monotonicNanos, connection.lastActivity), reason: reason)
        }
        counters.spansEmitted += spans.count
        return spans
    }

    /// Ends connections without activity for `idleNanos`, as of `now`; they end at their last activity.
    public mutating func expireIdle(now: UInt64, idleNanos: UInt64) -> [Span] {
        let idle = connections.values.flatMap(\.values)
            .filter { now >= $0.lastActivity && now - $0.lastActivity >= idleNanos }
            .sorted(by: TrackedConnection.openedBefore)
        var spans: [Span] = []
        for connection in idle {
            _ = remove(pid: connection.pid, fd: connection.fd)
            spans += finish(connection, at: connection.lastActivity, reason: ConnectionEndReason.idle)
        }
        counters.spansEmitted += spans.count
        return spans
    }

    /// The common case of a read or write on a connection already tracked, updated where it
    /// is stored rather than taken out and put back; nil when `(pid, fd)` holds no connection
    /// or another socket.
    private mutating func receiveInPlace(_ event: CaptureEvent, direction: Direction) -> [Span]? {
        guard connections[event.pid]?.keys.contains(event.fd) == true else { return nil }
        let outcome = Self.modify(&connections, pid: event.pid, fd: event.fd) {
            connection -> (events: [HTTP1ConnectionEvent], before: TrackedConnection.Ends, after: TrackedConnection.Ends)? in
            guard connection.socketID == event.socketID else { return nil }
            let before = connection.ends
            let events = connection.receive(event, direction: direction)
            return (events, before, connection.ends)
        }
        guard let (events, before, after) = outcome else { return nil }
        if before.role != after.role || before.local != after.local || before.peer != after.peer {
            unindex(before)
            index(after)
        }
        guard !events.isEmpty else { return [] }
        let spans = apply(events, on: after)
        if !spans.isEmpty { Self.modify(&connections, pid: event.pid, fd: event.fd) { $0.httpSpans += spans.count } }
        return spans
    }

    /// Runs `body` on the stored connection itself (no copy); it must exist.
    private static func modify<Result>(
        _ table: inout [Int32: [Int32: TrackedConnection]], pid: Int32, fd: Int32, _ body: (inout TrackedConnection) -> Result
    ) -> Result {
        body(&table[pid]![fd]!)
    }

    private mutating func remove(pid: Int32, fd: Int32) -> TrackedConnection? {
        guard let connection = connections[pid]?.removeValue(forKey: fd) else { return nil }
        if connections[pid]?.isEmpty == true { connections[pid] = nil }
        counters.openConnections -= 1
        unindex(connection.ends)
        return connection
    }

    private mutating func insert(_ connection: TrackedConnection) {
        if counters.openConnections >= max(1, configuration.maxConnections) { evictLeastRecentlyActive() }
        connections[connection.pid, default: [:]][connection.fd] = connection
        counters.openConnections += 1
        index(connection.ends)
    }

    private mutating func index(_ connection: TrackedConnection.Ends) {
        endpoints[EndpointPair(local: connection.local, peer: connection.peer), default: 0] += 1
        if connection.role == .server {
            serving[connection.pid, default: 0] += 1
        } else {
            calling[connection.pid, default: 0] += 1
        }
    }

    private mutating func unindex(_ connection: TrackedConnection.Ends) {
        let pair = EndpointPair(local: connection.local, peer: connection.peer)
        if let count = endpoints[pair] { endpoints[pair] = count > 1 ? count - 1 : nil }
        if connection.role == .server {
            if let count = serving[connection.pid] { serving[connection.pid] = count > 1 ? count - 1 : nil }
        } else if let count = calling[connection.pid] {
            calling[connection.pid] = count > 1 ? count - 1 : nil
        }
    }

    /// What linking needs to know about a span built on `connection`.
    func linkHints(kind: Span.Kind, on connection: TrackedConnection.Ends, requestDigest: UInt64?) -> SpanLinkHints {
        let parentMayFollow: Bool = switch kind {
        case .server: endpoints[EndpointPair(local: connection.peer, peer: connection.local)] != nil
        case .client: serving[connection.pid] != nil
        case .internal: false
        }
        let childMayFollow = kind != .server || calling[connection.pid] != nil
        return SpanLinkHints(requestDigest: requestDigest, parentMayFollow: parentMayFollow, childMayFollow: childMayFollow)
    }

    /// Drops a sixteenth of the limit at once, least recently active first, so that a full
    /// table costs one sort per many new connections rather than a scan per connection.
    private mutating func evictLeastRecentlyActive() {
        let count = max(1, configuration.maxConnections / 16)
        let victims = connections.values.flatMap(\.values)
            .sorted(by: TrackedConnection.activeBefore)
            .prefix(count)
        for victim in victims { _ = remove(pid: victim.pid, fd: victim.fd) }
        counters.connectionsEvicted += victims.count
    }

    /// Counts what decoding found and turns finished exchanges into spans.
    private mutating func apply(_ events: [HTTP1ConnectionEvent], to connection: inout TrackedConnection) -> [Span] {
        let spans = apply(events, on: connection.ends)
        connection.httpSpans += spans.count
        return spans
    }

    /// `apply(_:to:)` for a connection that stays where it is stored; the caller counts the spans.
    private mutating func apply(_ events: [HTTP1ConnectionEvent], on ends: TrackedConnection.Ends) -> [Span] {
        var spans: [Span] = []
        for event in events {
            switch event {
            case .exchange(let exchange):
                spans.append(span(for: exchange, on: ends))
            case .lostSync:
                counters.lostSync += 1
            case .decodeError:
                counters.decodeErrors += 1
            case .upgraded:
                break
            }
        }
        return spans
    }

    /// The spans a connection leaves when it ends: its unfinished exchanges, or, when it
    /// gave no HTTP span, one connection span.
    private mutating func finish(_ connection: TrackedConnection, at end: UInt64, reason: String) -> [Span] {
        var connection = connection
        var spans = apply(connection.finishHTTP(at: end, reason: reason), to: &connection)
        if connection.spansConnection, connection.httpSpans == 0 {
            spans.append(connectionSpan(for: connection, end: end))
        }
        return spans
    }
}

extension ConnectionTracker: Sendable where Generator: Sendable {}

extension ConnectionTracker where Generator == SystemRandomNumberGenerator {
    public init(configuration: ConnectionTrackerConfiguration = .init(), clock: ClockMapping) {
        self.init(configuration: configuration, clock: clock, generator: SystemRandomNumberGenerator())
    }
}
