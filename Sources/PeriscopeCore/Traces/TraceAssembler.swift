/// Puts the spans of one request on this node into one trace.
///
/// Spans arrive when they finish, so children come before their parents. The assembler
/// holds them, links each to its parent, and emits a trace once its root has arrived (or
/// when the hold time runs out), with one trace id and every parent id set:
///
/// - **Across processes**: the server span of a connection is the child of the client span
///   whose socket is the other end of it (same 4-tuple, swapped), HTTP exchanges paired by
///   time and request on keep-alive connections; connection spans of TCP-only hops too.
/// - **Within a process**: an outgoing (client) span is the child of the incoming (server)
///   span that carried the same request (`SpanLinkHints.requestDigest`) and was open when it
///   started, as in event-loop proxies; failing that, of the one server span its thread was
///   serving when the thread served only one at a time.
/// - **W3C trace context**: a trace keeps the trace id of the `traceparent` its root (or,
///   failing that, any of its spans) carried.
///
/// A server span that can have neither (`SpanLinkHints.parentMayFollow` and `childMayFollow`
/// both false, no call of its process waiting here) skips all of this: it is a trace of its
/// own, handed out by the next `advance`, and is not kept.
///
/// A pure state machine: `add(_:now:)` takes finished spans and `advance(now:)` returns the
/// traces ready at `now` (monotonic nanoseconds). Memory is bounded by
/// `TraceAssemblerConfiguration.maxPendingSpans` and `maxRetainedSpans`.
public struct TraceAssembler: Sendable {
    public var configuration: TraceAssemblerConfiguration
    public private(set) var counters = TraceAssemblerCounters()

    var nodes: [Int: Node] = [:]
    /// What linking reads of each held span, kept apart from `nodes` so that searching
    /// copies a few plain numbers rather than whole spans.
    var facts: [Int: LinkFacts] = [:]
    private var nextKey = 0
    /// Top of each pending tree → the earliest arrival in it.
    var pendingTops: [Int: UInt64] = [:]
    /// Emitted nodes, oldest first, kept for late spans; `retainedHead` is the first live one.
    private var retained: [Int] = []
    private var retainedHead = 0
    /// Traces emitted by `add` to bound memory, handed out by the next `advance`.
    private var outbox: [AssembledTrace] = []

    /// Held spans by connection, request and thread, oldest first. Slices, because spans
    /// are forgotten oldest first: dropping the front of a slice costs nothing.
    /// Each index is also keyed by span kind, as every search looks for one kind only.
    var byConnection: [Indexed<ConnectionKey>: ArraySlice<Int>] = [:]
    var byDigest: [Indexed<DigestKey>: ArraySlice<Int>] = [:]
    var byThread: [Indexed<ThreadKey>: ArraySlice<Int>] = [:]
    /// Threads seen serving two requests at once: an event loop, where a thread says
    /// nothing about which request an outgoing call is for.
    var multiplexed: Set<ThreadKey> = []
    /// Pending client spans by process: server spans of a process with none may be alone.
    var pendingClients: [Int32: Int] = [:]
    var threadActivity: [ThreadKey: ThreadActivity] = [:]

    public init(configuration: TraceAssemblerConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Takes finished spans, as the tracker returned them, at monotonic time `now`.
    public mutating func add(_ spans: [Span], now: UInt64) {
        for span in spans { add(span, now: now) }
        if counters.pendingSpans > max(1, configuration.maxPendingSpans) { evict(now: now) }
    }

    /// Traces ready at `now`: their root arrived (and the settle time passed), they join a
    /// trace already emitted, or they waited the hold time.
    public mutating func advance(now: UInt64) -> [AssembledTrace] {
        var ready = outbox
        outbox.removeAll()
        // A tree whose earliest span arrived less than the settle time ago can neither be
        // settled nor expired yet: skip those without looking at their nodes.
        let wait = min(configuration.settleNanos, configuration.holdNanos)
        let due = pendingTops.filter { now >= $0.value &+ wait }
        for (top, oldest) in due.sorted(by: { $0.key < $1.key }) {
            guard let node = nodes[top] else { continue }
            let settled = now >= node.arrival &+ configuration.settleNanos
            if let parent = node.parent, nodes[parent]?.isEmitted == true {
                if settled { ready.append(emit(top: top, as: .late, now: now)) }
            } else if !node.span.link.parentMayFollow {
                if settled { ready.append(emit(top: top, as: .complete, now: now)) }
            } else if now >= oldest &+ configuration.holdNanos {
                ready.append(emit(top: top, as: .expired, now: now))
            }
        }
        pruneRetained(now: now)
        return ready
    }

    /// Everything still held, for shutdown.
    public mutating func flush(now: UInt64) -> [AssembledTrace] {
        var ready = outbox
        outbox.removeAll()
        for top in pendingTops.keys.sorted() {
            guard let node = nodes[top] else { continue }
            let completion: AssembledTrace.Completion
            if let parent = node.parent, nodes[parent]?.isEmitted == true {
                completion = .late
            } else {
                completion = node.span.link.parentMayFollow ? .expired : .complete
            }
            ready.append(emit(top: top, as: completion, now: now))
        }
        return ready
    }

    // MARK: - Arrival

    private mutating func add(_ span: Span, now: UInt64) {
        let linkFacts = LinkFacts(span)
        noteConcurrency(linkFacts)
        if span.kind == .server, !span.link.parentMayFollow, !span.link.childMayFollow, pendingClients[span.pid] == nil {
            outbox.append(alone(span))
            return
        }
        let key = nextKey
        nextKey += 1
        nodes[key] = Node(span: span, arrival: now)
        facts[key] = linkFacts
        pendingTops[key] = now
        counters.pendingSpans += 1
        if span.kind == .client { pendingClients[span.pid, default: 0] += 1 }
        index(key)
        if let parent = findParent(of: key) { attach(key, to: parent) }
        for child in findChildren(of: key) { attach(child, to: key) }
        counters.pendingTraces = pendingTops.count
    }

    private mutating func attach(_ child: Int, to parent: Int) {
        guard !isAncestor(child, of: parent) else { return }
        nodes[child]!.parent = parent
        nodes[parent]!.children.append(child)
        counters.spansLinked += 1
        guard let oldest = pendingTops[child], nodes[parent]!.isEmitted == false else { return }
        pendingTops[child] = nil
        let top = top(of: parent)
        pendingTops[top] = min(pendingTops[top] ?? oldest, oldest)
    }

    /// Whether `ancestor` is `node` or above it.
    private func isAncestor(_ ancestor: Int, of node: Int) -> Bool {
        var current: Int? = node
        while let key = current {
            if key == ancestor { return true }
            current = nodes[key]?.parent
        }
        return false
    }

    /// The highest pending node above `key` (itself when its parent is emitted or absent).
    private func top(of key: Int) -> Int {
        var current = key
        while let parent = nodes[current]?.parent, nodes[parent]?.isEmitted == false { current = parent }
        return current
    }

    // MARK: - Emission

    /// A server span that can have neither parent nor children here (nothing traced called
    /// it, and its process has no call open or waiting): a trace of its own at once, kept
    /// for no late span.
    private mutating func alone(_ span: Span) -> AssembledTrace {
        var span = span
        let incoming = span.http?.traceparent.flatMap { TraceContext(traceparent: $0) }
        if let incoming {
            span.traceID = incoming.traceID
            span.parentSpanID = incoming.parentID
        }
        counters.tracesCompleted += 1
        return AssembledTrace(spans: [span], incoming: incoming, completion: .complete)
    }

    private mutating func emit(top: Int, as completion: AssembledTrace.Completion, now: UInt64) -> AssembledTrace {
        pendingTops[top] = nil
        var order: [Int] = []
        var stack = [top]
        while let key = stack.popLast() {
            order.append(key)
            let children = nodes[key]!.children.filter { nodes[$0]?.isEmitted == false }
            stack += children.sorted { (facts[$0]?.start ?? 0) > (facts[$1]?.start ?? 0) }
        }
        let topNode = nodes[top]!
        let traceID: TraceID
        let incoming: TraceContext?
        var topParent: SpanID?
        if let parent = topNode.parent, let parentNode = nodes[parent] {
            traceID = parentNode.span.traceID
            incoming = parentNode.incoming
            topParent = parentNode.span.spanID
            counters.lateSpans += order.count
        } else {
            func context(_ span: Span) -> TraceContext? { span.http?.traceparent.flatMap { TraceContext(traceparent: $0) } }
            let topContext = context(topNode.span)
            incoming = topContext ?? order.lazy.compactMap { [nodes] in context(nodes[$0]!.span) }.first
            traceID = incoming?.traceID ?? topNode.span.traceID
            topParent = topContext?.parentID
        }
        var spans: [Span] = []
        spans.reserveCapacity(order.count)
        for key in order {
            var node = nodes[key]!
            node.span.traceID = traceID
            if key == top {
                node.span.parentSpanID = topParent
                if let parent = node.parent, let parentSpan = nodes[parent]?.span { clamp(&node.span, into: parentSpan) }
            } else {
                let parentSpan = nodes[node.parent!]!.span
                node.span.parentSpanID = parentSpan.spanID
                clamp(&node.span, into: parentSpan)
            }
            node.emittedAt = now
            node.incoming = incoming
            if node.span.kind == .client, let count = pendingClients[node.span.pid] {
                pendingClients[node.span.pid] = count > 1 ? count - 1 : nil
            }
            facts[key] = LinkFacts(node.span)
            spans.append(node.span)
            // Kept only for spans that finish late: ids, times and addresses are all they need.
            node.span.http = nil
            node.span.executable = nil
            node.span.statusMessage = nil
            nodes[key] = node
            retained.append(key)
        }
        counters.pendingSpans -= order.count
        counters.pendingTraces = pendingTops.count
        switch completion {
        case .complete: counters.tracesCompleted += 1
        case .expired: counters.tracesExpired += 1
        case .evicted: counters.tracesEvicted += 1
        case .late: break
        }
        return AssembledTrace(spans: spans, incoming: incoming, completion: completion)
    }

    /// The two ends of a hop read the clock at their own syscalls' ends: the reader of the
    /// last response byte can return before the writer's syscall does. Within
    /// `skewNanos`, a child is moved inside its parent, as trace viewers expect.
    private func clamp(_ span: inout Span, into parent: Span) {
        let skew = configuration.skewNanos
        if span.startTimeUnixNano < parent.startTimeUnixNano, parent.startTimeUnixNano - span.startTimeUnixNano <= skew {
            span.startTimeUnixNano = parent.startTimeUnixNano
        }
        if span.endTimeUnixNano > parent.endTimeUnixNano, span.endTimeUnixNano - parent.endTimeUnixNano <= skew {
            span.endTimeUnixNano = max(parent.endTimeUnixNano, span.startTimeUnixNano)
        }
    }

    /// Emits the oldest pending traces until a sixteenth of the limit is free.
    private mutating func evict(now: UInt64) {
        let limit = max(1, configuration.maxPendingSpans)
        let target = limit - limit / 16
        for (top, _) in pendingTops.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            guard counters.pendingSpans > target else { break }
            guard pendingTops[top] != nil else { continue }
            outbox.append(emit(top: top, as: .evicted, now: now))
        }
    }

    /// Forgets emitted spans older than the retention time, or beyond the retention limit.
    private mutating func pruneRetained(now: UInt64) {
        while retainedHead < retained.count {
            let key = retained[retainedHead]
            guard let node = nodes[key], let emittedAt = node.emittedAt else {
                retainedHead += 1
                continue
            }
            let live = retained.count - retainedHead
            guard now >= emittedAt &+ configuration.retainNanos || live > max(0, configuration.maxRetainedSpans) else { break }
            forget(key)
            retainedHead += 1
        }
        if retainedHead > 1024, retainedHead * 2 > retained.count {
            retained.removeFirst(retainedHead)
            retainedHead = 0
        }
    }

    private mutating func forget(_ key: Int) {
        guard let node = nodes.removeValue(forKey: key) else { return }
        if let linkFacts = facts.removeValue(forKey: key) { unindex(key, linkFacts) }
        if let parent = node.parent { nodes[parent]?.children.removeAll { $0 == key } }
        for child in node.children { nodes[child]?.parent = nil }
    }
}
