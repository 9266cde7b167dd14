extension TraceAssembler {
    /// One span held by the assembler, pending or emitted.
    struct Node: Sendable {
        var span: Span
        /// When the span was added (monotonic).
        var arrival: UInt64
        var parent: Int?
        var children: [Int] = []
        /// When its trace was emitted; nil while pending.
        var emittedAt: UInt64?
        /// After emission: the context its trace came in with.
        var incoming: TraceContext?
        /// Whether a child was linked to it through the request it carried.
        var hasRequestChild = false

        init(span: Span, arrival: UInt64) {
            self.span = span
            self.arrival = arrival
        }

        var isEmitted: Bool { emittedAt != nil }
    }

    /// The few values of a held span that linking compares, without its strings.
    struct LinkFacts: Sendable {
        var kind: Span.Kind
        var pid: Int32
        var tid: Int32
        var start: UInt64
        var end: UInt64
        var isHTTP: Bool
        var digest: UInt64?
        var connection: ConnectionKey?

        init(_ span: Span) {
            kind = span.kind
            pid = span.pid
            tid = span.tid
            start = span.startTimeUnixNano
            end = span.endTimeUnixNano
            isHTTP = span.http != nil
            digest = span.link.requestDigest
            connection = TraceAssembler.connectionKey(of: span)
        }
    }

    /// One TCP connection, named the same from both ends.
    struct ConnectionKey: Hashable, Sendable {
        var client: SocketAddress
        var server: SocketAddress
    }

    struct DigestKey: Hashable, Sendable {
        var pid: Int32
        var digest: UInt64
    }

    struct ThreadKey: Hashable, Sendable {
        var pid: Int32
        var tid: Int32
    }

    // MARK: - Indexes

    /// An index key together with the kind of the spans listed under it.
    struct Indexed<Key: Hashable & Sendable>: Hashable, Sendable {
        var key: Key
        var kind: Span.Kind
    }

    static func connectionKey(of span: Span) -> ConnectionKey? {
        guard span.local != .unspecified, span.peer != .unspecified else { return nil }
        switch span.kind {
        case .client: return ConnectionKey(client: span.local, server: span.peer)
        case .server: return ConnectionKey(client: span.peer, server: span.local)
        case .internal: return nil
        }
    }

    mutating func index(_ key: Int) {
        guard let span = facts[key] else { return }
        if let connection = span.connection {
            byConnection[Indexed(key: connection, kind: span.kind), default: []].append(key)
        }
        if let digest = span.digest {
            byDigest[Indexed(key: DigestKey(pid: span.pid, digest: digest), kind: span.kind), default: []].append(key)
        }
        byThread[Indexed(key: ThreadKey(pid: span.pid, tid: span.tid), kind: span.kind), default: []].append(key)
    }

    /// Drops a forgotten span (no longer in `facts`) from the indexes. Spans are mostly
    /// forgotten oldest first, so it is usually at the front of its lists; elsewhere it stays
    /// until the entries before it go (searches skip it). Those go within `maxRetainedSpans`
    /// emissions, which bounds what waits. Removing from the middle of long lists on every span
    /// would cost more than all linking.
    mutating func unindex(_ key: Int, _ span: LinkFacts) {
        let facts = self.facts
        func remove<K: Hashable>(_ index: inout [K: ArraySlice<Int>], _ k: K) {
            guard var keys = index.removeValue(forKey: k) else { return }
            if keys.first == key {
                keys.removeFirst()
                while let first = keys.first, facts[first] == nil { keys.removeFirst() }
            }
            if !keys.isEmpty { index[k] = keys }
        }
        if let connection = span.connection { remove(&byConnection, Indexed(key: connection, kind: span.kind)) }
        if let digest = span.digest {
            remove(&byDigest, Indexed(key: DigestKey(pid: span.pid, digest: digest), kind: span.kind))
        }
        remove(&byThread, Indexed(key: ThreadKey(pid: span.pid, tid: span.tid), kind: span.kind))
    }

    /// Marks the span's thread as an event loop when it served two requests, or made two
    /// calls, at the same time: spans arrive about when they end, so a span starting before
    /// the latest end seen for its kind on its thread overlapped that one.
    mutating func noteConcurrency(_ span: LinkFacts) {
        guard span.isHTTP, span.kind != .internal else { return }
        let thread = ThreadKey(pid: span.pid, tid: span.tid)
        let latest = span.kind == .server ? \ThreadActivity.serverEnd : \ThreadActivity.clientEnd
        var activity = threadActivity[thread] ?? ThreadActivity()
        if span.start < activity[keyPath: latest], !multiplexed.contains(thread) {
            if multiplexed.count >= 65536 { multiplexed.removeAll() }
            multiplexed.insert(thread)
        }
        activity[keyPath: latest] = max(activity[keyPath: latest], span.end)
        if threadActivity.count >= 65536, threadActivity[thread] == nil { threadActivity.removeAll() }
        threadActivity[thread] = activity
    }

    /// The latest end of a server and of a client HTTP span seen on one thread.
    struct ThreadActivity: Sendable {
        var serverEnd: UInt64 = 0
        var clientEnd: UInt64 = 0
    }

    /// The most recent entries of an index list: a span's counterpart finished about when
    /// it did, so older entries (a long keep-alive connection, a busy thread) are not searched.
    static func recent(_ keys: ArraySlice<Int>?) -> ArraySlice<Int> {
        guard let keys else { return [] }
        return keys.suffix(searchDepth)
    }

    static var searchDepth: Int { 128 }

    // MARK: - Rules

    /// Whether server span `child` can be the far end of client span `parent` on their
    /// shared connection: the server read an exchange's request while the client's exchange
    /// was open; connection spans overlap.
    static func acrossConnection(parent: LinkFacts, child: LinkFacts, skew: UInt64) -> Bool {
        guard parent.kind == .client, child.kind == .server else { return false }
        if parent.isHTTP, child.isHTTP {
            if let a = parent.digest, let b = child.digest, a != b { return false }
            return child.start &+ skew >= parent.start && child.start <= parent.end &+ skew
        }
        return child.start <= parent.end &+ skew && parent.start <= child.end &+ skew
    }

    /// Whether client span `child` started while server span `parent` of the same process
    /// was open. One process's events are ordered: a proxy reads a request before it
    /// forwards it, so no skew is allowed. A process calling itself is linked across the
    /// connection instead.
    static func startedWithin(parent: LinkFacts, child: LinkFacts) -> Bool {
        parent.kind == .server && child.kind == .client && parent.pid == child.pid
            && child.start >= parent.start && child.start <= parent.end
            && parent.connection != child.connection
    }

    /// Whether client span `child` lies inside server span `parent` of the same process.
    static func liesWithin(parent: LinkFacts, child: LinkFacts) -> Bool {
        startedWithin(parent: parent, child: child) && child.end <= parent.end
    }

    /// An HTTP client exchange has one far end; a connection span may carry many exchanges.
    private func takesAnotherConnectionChild(_ parent: Int) -> Bool {
        guard let parentFacts = facts[parent], let node = nodes[parent] else { return false }
        guard parentFacts.isHTTP else { return true }
        return !node.children.contains { facts[$0]?.kind == .server }
    }

    private func isPendingOrphan(_ key: Int) -> Bool {
        guard let node = nodes[key] else { return false }
        return node.parent == nil && !node.isEmitted
    }

    /// Ends a newest-first search once several entries in a row ended more than the clock skew
    /// before `moment` (when the span being placed began). Index lists are in arrival order,
    /// about the order spans end in, so older entries cannot be its parent or child either. A
    /// few in a row, not one: a span ending long before it arrives (an answer framed by the
    /// connection's close) sits among newer ones.
    struct SearchHorizon {
        let moment: UInt64
        let skew: UInt64
        private var behind = 0

        init(_ moment: UInt64, skew: UInt64) {
            self.moment = moment
            self.skew = skew
        }

        mutating func passed(_ span: LinkFacts) -> Bool {
            behind = span.end &+ skew < moment ? behind + 1 : 0
            return behind >= 8
        }
    }

    /// How long after `earlier` `later` came; 0 when it did not.
    private static func gap(from earlier: UInt64, to later: UInt64) -> UInt64 {
        later > earlier ? later - earlier : 0
    }

    private static func distance(_ a: LinkFacts, _ b: LinkFacts) -> UInt64 {
        a.start > b.start ? a.start - b.start : b.start - a.start
    }

    // MARK: - Search

    /// The parent of a newly arrived span among the spans already held.
    mutating func findParent(of key: Int) -> Int? {
        guard let span = facts[key] else { return nil }
        let skew = configuration.skewNanos
        switch span.kind {
        case .server:
            guard let connection = span.connection else { return nil }
            var best: (key: Int, distance: UInt64)?
            var horizon = SearchHorizon(span.start, skew: skew)
            for candidate in Self.recent(byConnection[Indexed(key: connection, kind: .client)]).reversed() where candidate != key {
                guard let parent = facts[candidate] else { continue }
                if horizon.passed(parent) { break }
                guard Self.acrossConnection(parent: parent, child: span, skew: skew), takesAnotherConnectionChild(candidate)
                else { continue }
                let distance = Self.distance(parent, span)
                if best == nil || distance <= best!.distance { best = (candidate, distance) }
            }
            return best?.key
        case .client:
            if let digest = span.digest {
                // Prefer a server span that has not forwarded its request yet, then one that
                // answered after this call ended, the soonest after. A server that already
                // forwarded the request and answered before this call ended is another
                // request's (identical requests through an event loop). One process's clock
                // needs no skew.
                var best: (key: Int, rank: (Int, Int, UInt64))?
                let servers = Indexed(key: DigestKey(pid: span.pid, digest: digest), kind: .server)
                var horizon = SearchHorizon(span.start, skew: skew)
                for candidate in Self.recent(byDigest[servers]).reversed() where candidate != key {
                    guard let parent = facts[candidate] else { continue }
                    if horizon.passed(parent) { break }
                    guard Self.startedWithin(parent: parent, child: span) else { continue }
                    let forwarded = nodes[candidate]?.hasRequestChild == true
                    let answeredAfter = span.end <= parent.end
                    if forwarded && !answeredAfter { continue }
                    let rank = (forwarded ? 1 : 0, answeredAfter ? 0 : 1, answeredAfter ? Self.gap(from: span.end, to: parent.end) : parent.start)
                    if best == nil || rank <= best!.rank { best = (candidate, rank) }
                }
                if let parent = best?.key {
                    nodes[parent]!.hasRequestChild = true
                    return parent
                }
            }
            // By thread only from the server's side: when a call finishes, the request it
            // belongs to may still be open and unknown here.
            return nil
        case .internal:
            return nil
        }
    }

    /// Spans already held, still without a parent, that the newly arrived span is the parent of.
    mutating func findChildren(of key: Int) -> [Int] {
        guard let span = facts[key] else { return [] }
        let skew = configuration.skewNanos
        switch span.kind {
        case .client:
            guard let connection = span.connection else { return [] }
            var orphans: [Int] = []
            var nearest: (key: Int, distance: UInt64)?
            var horizon = SearchHorizon(span.start, skew: skew)
            for candidate in Self.recent(byConnection[Indexed(key: connection, kind: .server)]).reversed() where candidate != key {
                guard let child = facts[candidate] else { continue }
                if horizon.passed(child) { break }
                guard Self.acrossConnection(parent: span, child: child, skew: skew), isPendingOrphan(candidate) else { continue }
                orphans.append(candidate)
                let distance = Self.distance(child, span)
                if nearest == nil || distance <= nearest!.distance { nearest = (candidate, distance) }
            }
            guard span.isHTTP else { return orphans.reversed() }
            return nearest.map { [$0.key] } ?? []
        case .server:
            var children: [Int] = []
            if let digest = span.digest {
                // The call that ended the soonest before this answer (a proxy answers as soon
                // as its call returns), else the earliest that started within it.
                var first: (key: Int, rank: (Int, UInt64))?
                let clients = Indexed(key: DigestKey(pid: span.pid, digest: digest), kind: .client)
                var horizon = SearchHorizon(span.start, skew: skew)
                for candidate in Self.recent(byDigest[clients]).reversed() where candidate != key {
                    guard let child = facts[candidate] else { continue }
                    if horizon.passed(child) { break }
                    guard Self.startedWithin(parent: span, child: child), isPendingOrphan(candidate) else { continue }
                    let endedBefore = child.end <= span.end
                    let rank = (endedBefore ? 0 : 1, endedBefore ? Self.gap(from: child.end, to: span.end) : child.start)
                    if first == nil || rank <= first!.rank { first = (candidate, rank) }
                }
                if let first {
                    children.append(first.key)
                    nodes[key]!.hasRequestChild = true
                }
            }
            let thread = ThreadKey(pid: span.pid, tid: span.tid)
            guard !multiplexed.contains(thread) else { return children }
            let servedOnThread = Self.recent(byThread[Indexed(key: thread, kind: .server)])
            for candidate in Self.recent(byThread[Indexed(key: thread, kind: .client)])
            where candidate != key && !children.contains(candidate) {
                guard let child = facts[candidate], Self.liesWithin(parent: span, child: child), isPendingOrphan(candidate)
                else { continue }
                // Another request served by the thread at that time makes the thread say nothing.
                let ambiguous = servedOnThread.contains { other in
                    guard other != key, other != candidate, let otherFacts = facts[other] else { return false }
                    return Self.liesWithin(parent: otherFacts, child: child)
                }
                if !ambiguous { children.append(candidate) }
            }
            return children
        case .internal:
            return []
        }
    }
}
