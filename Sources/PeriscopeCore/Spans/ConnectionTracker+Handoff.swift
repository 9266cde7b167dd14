/// Sockets served by a process other than the one that opened them: a fork-per-connection
/// server's child, PostgreSQL's backend forked by the postmaster, a descriptor passed with
/// SCM_RIGHTS, a dup. The connection — its role, its start, its decoder mid-exchange —
/// belongs to whichever process reads and writes it, and moves with the socket.
extension ConnectionTracker {
    /// A descriptor closed while others still hold its socket: the connection waits, whole,
    /// for the next process that uses it. Beyond `maxConnections` waiting, it ends here.
    mutating func handOff(pid: Int32, fd: Int32, at timestamp: UInt64, into spans: inout [Span]) {
        guard let handle = connections.handle(pid: pid, fd: fd) else { return }
        let socketID = connections.slots[handle].socketID
        guard socketID != 0, handedOff.count < max(1, configuration.maxConnections) else {
            if let connection = remove(pid: pid, fd: fd) {
                finish(connection, at: max(timestamp, connection.lastActivity), reason: ConnectionEndReason.closed, into: &spans)
            }
            return
        }
        guard var connection = connections.remove(pid: pid, fd: fd) else { return }
        connection.handedOff = true
        if let stale = handedOff.updateValue(connection, forKey: socketID) { retire(stale, into: &spans) }
        counters.connectionsHandedOff += 1
    }

    /// The connection of `event`'s socket held by another descriptor or waiting after its
    /// close, moved to `event`'s process and descriptor; nil when there is none. A socket
    /// whose ends differ is a reused kernel address, not the same connection.
    mutating func adopt(_ event: CaptureEvent, into spans: inout [Span]) -> Int? {
        guard event.socketID != 0 else { return nil }
        var connection: TrackedConnection
        if let waiting = handedOff[event.socketID] {
            handedOff[event.socketID] = nil
            guard waiting.isSameConnection(as: event) else {
                retire(waiting, into: &spans)
                return nil
            }
            connection = waiting
        } else if let other = connections.handle(socketID: event.socketID),
                  connections.slots[other].isSameConnection(as: event),
                  let moved = connections.remove(pid: connections.slots[other].pid, fd: connections.slots[other].fd) {
            connection = moved
        } else {
            return nil
        }
        connection.pid = event.pid
        connection.fd = event.fd
        connection.tid = event.tid
        connection.handedOff = false
        counters.connectionsAdopted += 1
        return connections.insert(connection)
    }

    /// The connection waiting for `socketID`, removed: its last descriptor closed unused.
    mutating func takeHandedOff(_ socketID: UInt64) -> TrackedConnection? {
        guard socketID != 0, let connection = handedOff.removeValue(forKey: socketID) else { return nil }
        counters.openConnections -= 1
        unindex(connection.ends)
        return connection
    }

    /// Waiting connections without activity for `idleNanos`, removed (their other holder
    /// was not traced, or exited without closing).
    mutating func expireHandedOff(now: UInt64, idleNanos: UInt64) -> [TrackedConnection] {
        let idle = handedOff.values
            .filter { now >= $0.lastActivity && now - $0.lastActivity >= idleNanos }
            .sorted(by: TrackedConnection.openedBefore)
        return idle.compactMap { takeHandedOff($0.socketID) }
    }

    /// A waiting connection that will not be adopted ends where its activity ended.
    private mutating func retire(_ connection: TrackedConnection, into spans: inout [Span]) {
        counters.openConnections -= 1
        unindex(connection.ends)
        finish(connection, at: connection.lastActivity, reason: ConnectionEndReason.closed, into: &spans)
    }
}

extension TrackedConnection {
    /// Whether `event`, on the same kernel socket, is this connection: same ends (a socket
    /// seen before its addresses were known matches any).
    func isSameConnection(as event: CaptureEvent) -> Bool {
        (local == .unspecified || event.local == .unspecified || local == event.local)
            && (peer == .unspecified || event.peer == .unspecified || peer == event.peer)
    }
}
