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

    static func connectionKey(of span: Span) -> ConnectionKey? {
        guard span.local != .unspecified, span.peer != .unspecified else { return nil }
        switch span.kind {
        case .client: return ConnectionKey(client: span.local, server: span.peer)
        case .server: return ConnectionKey(client: span.peer, server: span.local)
        case .internal: return nil
        }
    }

    mutating func index(_ key: Int) {
        let span = nodes[key]!.span
        if let connection = Self.connectionKey(of: span) { byConnection[connection, default: []].append(key) }
        if let digest = span.link.requestDigest { byDigest[DigestKey(pid: span.pid, digest: digest), default: []].append(key) }
        byThread[ThreadKey(pid: span.pid, tid: span.tid), default: []].append(key)
    }

    mutating func unindex(_ key: Int, _ span: Span) {
        func remove<K: Hashable>(_ index: inout [K: [Int]], _ k: K) {
            guard let position = index[k]?.firstIndex(of: key) else { return }
            index[k]!.remove(at: position)
            if index[k]!.isEmpty { index[k] = nil }
        }
        if let connection = Self.connectionKey(of: span) { remove(&byConnection, connection) }
        if let digest = span.link.requestDigest { remove(&byDigest, DigestKey(pid: span.pid, digest: digest)) }
        remove(&byThread, ThreadKey(pid: span.pid, tid: span.tid))
    }

    /// Marks the span's thread as an event loop when it served two requests, or made two
    /// calls, at the same time: spans arrive about when they end, so a span starting before
    /// the latest end seen for its kind on its thread overlapped that one.
    mutating func noteConcurrency(of key: Int) {
        let span = nodes[key]!.span
        guard span.http != nil, span.kind != .internal else { return }
        let thread = ThreadKey(pid: span.pid, tid: span.tid)
        let latest = span.kind == .server ? \ThreadActivity.serverEnd : \ThreadActivity.clientEnd
        var activity = threadActivity[thread] ?? ThreadActivity()
        if span.startTimeUnixNano < activity[keyPath: latest], !multiplexed.contains(thread) {
            if multiplexed.count >= 65536 { multiplexed.removeAll() }
            multiplexed.insert(thread)
        }
        activity[keyPath: latest] = max(activity[keyPath: latest], span.endTimeUnixNano)
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
    static func recent(_ keys: [Int]?) -> ArraySlice<Int> {
        guard let keys else { return [] }
        return keys.suffix(searchDepth)
    }

    static var searchDepth: Int { 128 }

    // MARK: - Rules

    /// Whether server span `child` can be the far end of client span `parent` on their
    /// shared connection: the server read an exchange's request while the client's exchange
    /// was open; connection spans overlap.
    func acrossConnection(parent: Span, child: Span) -> Bool {
        guard parent.kind == .client, child.kind == .server else { return false }
        let skew = configuration.skewNanos
        if parent.http != nil, child.http != nil {
            if let a = parent.link.requestDigest, let b = child.link.requestDigest, a != b { return false }
            return child.startTimeUnixNano &+ skew >= parent.startTimeUnixNano
                && child.startTimeUnixNano <= parent.endTimeUnixNano &+ skew
        }
        return child.startTimeUnixNano <= parent.endTimeUnixNano &+ skew
            && parent.startTimeUnixNano <= child.endTimeUnixNano &+ skew
    }

    /// Whether client span `child` started while server span `parent` of the same process
    /// was open. One process's events are ordered: a proxy reads a request before it
    /// forwards it, so no skew is allowed. A process calling itself is linked across the
    /// connection instead.
    func startedWithin(parent: Span, child: Span) -> Bool {
        parent.kind == .server && child.kind == .client && parent.pid == child.pid
            && child.startTimeUnixNano >= parent.startTimeUnixNano
            && child.startTimeUnixNano <= parent.endTimeUnixNano
            && Self.connectionKey(of: parent) != Self.connectionKey(of: child)
    }

    /// Whether client span `child` lies inside server span `parent` of the same process.
    func liesWithin(parent: Span, child: Span) -> Bool {
        startedWithin(parent: parent, child: child) && child.endTimeUnixNano <= parent.endTimeUnixNano
    }

    /// An HTTP client exchange has one far end; a connection span may carry many exchanges.
    private func takesAnotherConnectionChild(_ parent: Int) -> Bool {
        guard let node = nodes[parent] else { return false }
        guard node.span.http != nil else { return true }
        return !node.children.contains { nodes[$0]?.span.kind == .server }
    }

    private func isPendingOrphan(_ key: Int) -> Bool {
        guard let node = nodes[key] else { return false }
        return node.parent == nil && !node.isEmitted
    }

    private func distance(_ a: Span, _ b: Span) -> UInt64 {
        a.startTimeUnixNano > b.startTimeUnixNano ? a.startTimeUnixNano - b.startTimeUnixNano : b.startTimeUnixNano - a.startTimeUnixNano
    }

    // MARK: - Search

    /// The parent of a newly arrived span among the spans already held.
    mutating func findParent(of key: Int) -> Int? {
        let span = nodes[key]!.span
        switch span.kind {
        case .server:
            guard let connection = Self.connectionKey(of: span) else { return nil }
            return Self.recent(byConnection[connection])
                .filter { $0 != key && takesAnotherConnectionChild($0) && acrossConnection(parent: nodes[$0]!.span, child: span) }
                .min { distance(nodes[$0]!.span, span) < distance(nodes[$1]!.span, span) }
        case .client:
            if let digest = span.link.requestDigest {
                let candidates = Self.recent(byDigest[DigestKey(pid: span.pid, digest: digest)])
                    .filter { $0 != key && startedWithin(parent: nodes[$0]!.span, child: span) }
                    .sorted { (nodes[$0]!.hasRequestChild ? 1 : 0, nodes[$0]!.span.startTimeUnixNano) < (nodes[$1]!.hasRequestChild ? 1 : 0, nodes[$1]!.span.startTimeUnixNano) }
                if let parent = candidates.first {
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
        let span = nodes[key]!.span
        switch span.kind {
        case .client:
            guard let connection = Self.connectionKey(of: span) else { return [] }
            let orphans = Self.recent(byConnection[connection])
                .filter { $0 != key && isPendingOrphan($0) && acrossConnection(parent: span, child: nodes[$0]!.span) }
            guard span.http != nil else { return orphans }
            return orphans.min { distance(nodes[$0]!.span, span) < distance(nodes[$1]!.span, span) }.map { [$0] } ?? []
        case .server:
            var children: [Int] = []
            if let digest = span.link.requestDigest {
                let first = Self.recent(byDigest[DigestKey(pid: span.pid, digest: digest)])
                    .filter { $0 != key && isPendingOrphan($0) && startedWithin(parent: span, child: nodes[$0]!.span) }
                    .min { nodes[$0]!.span.startTimeUnixNano < nodes[$1]!.span.startTimeUnixNano }
                if let first {
                    children.append(first)
                    nodes[key]!.hasRequestChild = true
                }
            }
            let thread = ThreadKey(pid: span.pid, tid: span.tid)
            guard !multiplexed.contains(thread) else { return children }
            let onThread = Self.recent(byThread[thread])
            for candidate in onThread where candidate != key && !children.contains(candidate) && isPendingOrphan(candidate) {
                let child = nodes[candidate]!.span
                guard liesWithin(parent: span, child: child) else { continue }
                // Another request served by the thread at that time makes the thread say nothing.
                let ambiguous = onThread.contains { other in
                    other != key && other != candidate && liesWithin(parent: nodes[other]!.span, child: child)
                }
                if !ambiguous { children.append(candidate) }
            }
            return children
        case .internal:
            return []
        }
    }
}
