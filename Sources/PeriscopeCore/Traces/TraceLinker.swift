/// Decides each span's trace context when its request starts, as a tracer inside the
/// process would, so that a span can leave as soon as it ends with its parent already set.
/// Only requests in flight are remembered.
///
/// - **Across processes on this node** (a *hop*: one TCP connection whose both ends are
///   traced): the client publishes each request's context on the hop when it writes the
///   request; the server takes the next one when it reads a request. The ring buffer can
///   deliver the server's read first (the writer's data reaches the reader during its
///   `write`), so a server that finds nothing yet while its caller is traced starts with a
///   *provisional* trace and waits: the caller's context, when it comes, resolves it. Spans
///   that depend on a provisional trace wait for it (at most `reorderWindowNanos`).
/// - **Within a process**: an outgoing request is the child of the incoming request in
///   flight in the same process that carried the same request (equal digests, as in
///   proxies; oldest first, as event loops forward in order), else of the one request its
///   thread is serving when the thread serves one at a time.
/// - **W3C trace context**: an incoming `traceparent` is continued where no traced caller
///   on this node gives a parent; an outgoing request that already carries one keeps it.
///
/// A pure state machine; ids come from the caller's generator.
public struct TraceLinker: Sendable {
    public var configuration: Configuration
    public internal(set) var counters = Counters()

    public struct Configuration: Sendable, Equatable {
        /// How long a server request waits for its caller's context, and a span for a
        /// provisional trace it depends on. Default: 20 ms.
        public var reorderWindowNanos: UInt64
        /// Spans waiting at most; beyond it the oldest waits are given up. Default: 16384.
        public var maxHeldSpans: Int

        public init(reorderWindowNanos: UInt64 = 20_000_000, maxHeldSpans: Int = 16384) {
            self.reorderWindowNanos = reorderWindowNanos
            self.maxHeldSpans = maxHeldSpans
        }
    }

    public struct Counters: Sendable, Equatable {
        /// Server requests that started before their caller's context arrived.
        public var provisionalTraces = 0
        /// Of those, resolved by their caller's context.
        public var provisionalResolved = 0
        /// Of those, given up after the reorder window (they became roots).
        public var provisionalExpired = 0
        /// Spans currently waiting for a provisional trace.
        public var heldSpans = 0
        /// Requests in flight whose context is remembered.
        public var requestsInFlight = 0

        public init() {}
    }

    /// The connection between two traced sockets, named by its client end.
    struct HopKey: FixedKey {
        var client: SocketAddress
        var server: SocketAddress

        var folded: UInt64 { client.folded &* 0xff51_afd7_ed55_8ccd ^ server.folded }
    }

    struct Published: Sendable {
        var context: SpanContext
        var streamID: UInt32?
    }

    struct Waiting: Sendable {
        var provisional: UInt64
        var spanID: SpanID
        var streamID: UInt32?
    }

    struct Hop: Sendable {
        /// Contexts of requests the client wrote that the server has not read yet, oldest first.
        var published: [Published] = []
        /// Server requests read before their caller's context arrived, oldest first.
        var waiting: [Waiting] = []
        /// The context of a client that is a connection span (bytes not decoded): the parent
        /// of everything the server reads on it.
        var sticky: SpanContext?

        static func sameStream(_ a: UInt32?, _ b: UInt32?) -> Bool { a == nil || b == nil || a == b }

        /// The caller's context for a request the server starts to read: a connection span's,
        /// or the oldest request published (of the same stream, where there are streams).
        mutating func takeCaller(streamID: UInt32?) -> SpanContext? {
            if let sticky { return sticky }
            guard let index = published.firstIndex(where: { Self.sameStream(streamID, $0.streamID) }) else { return nil }
            return published.remove(at: index).context
        }

        /// The oldest server request waiting for a caller (of the same stream), removed; those
        /// that gave up (no longer in `stillWaiting`) are passed over.
        mutating func takeWaiting(streamID: UInt32?, stillWaiting: [UInt64: UInt64]) -> Waiting? {
            guard !waiting.isEmpty else { return nil }
            waiting.removeAll { stillWaiting[$0.provisional] == nil }
            guard let index = waiting.firstIndex(where: { Self.sameStream(streamID, $0.streamID) }) else { return nil }
            return waiting.remove(at: index)
        }

        /// A client request's context, kept for the server request that will read it; only
        /// the newest `limit` are kept.
        mutating func publish(_ entry: Published, keeping limit: Int) {
            published.append(entry)
            if published.count > limit { published.removeFirst(published.count - limit) }
        }

        /// A connection span's context, the parent of everything the server reads; the server
        /// requests still waiting, removed.
        mutating func stick(_ context: SpanContext, stillWaiting: [UInt64: UInt64]) -> [Waiting] {
            sticky = context
            guard !waiting.isEmpty else { return [] }
            var resolved: [Waiting] = []
            swap(&resolved, &waiting)
            return resolved.filter { stillWaiting[$0.provisional] != nil }
        }
    }

    struct ThreadKey: FixedKey {
        var pid: Int32
        var tid: Int32

        var folded: UInt64 { UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: tid)) }
    }

    struct DigestKey: FixedKey {
        var pid: Int32
        var digest: UInt64

        var folded: UInt64 { digest &* 0xff51_afd7_ed55_8ccd ^ UInt64(UInt32(bitPattern: pid)) }
    }

    struct InFlightServer: Sendable {
        var context: SpanContext
        var forwarded: Bool
    }

    /// The server requests in flight in one process that carried one request (a digest),
    /// oldest first: the first held in the entry itself, the rest (an event loop serving the
    /// same request on many connections at once) in a list, so that the usual one costs no
    /// list per request.
    struct InFlightServers: Sendable {
        var first: InFlightServer
        var more: [InFlightServer] = []

        var count: Int { 1 + more.count }

        subscript(index: Int) -> InFlightServer {
            get { index == 0 ? first : more[index - 1] }
            _modify {
                if index == 0 {
                    yield &first
                } else {
                    yield &more[index - 1]
                }
            }
        }

        func firstIndex(where matches: (InFlightServer) -> Bool) -> Int? {
            if matches(first) { return 0 }
            return more.firstIndex(where: matches).map { $0 + 1 }
        }

        /// Removes the entry at `index`, which must not be the only one.
        mutating func remove(at index: Int) {
            if index == 0 {
                first = more.removeFirst()
            } else {
                more.remove(at: index - 1)
            }
        }
    }

    struct ThreadServing: Sendable {
        var count: Int
        var context: SpanContext
    }

    /// Where a waiting request's trace went when its caller's context arrived.
    struct Resolution: Sendable {
        var provisional: UInt64
        var root: SpanID
        var traceID: TraceID
        var parentSpanID: SpanID
        var sampled: Bool
        /// The caller's own provisional trace, if it had one.
        var next: UInt64
    }

    /// When a client request in flight started and, once known, ended, and the latest end of
    /// a server request that took it as its parent while it had not ended (Unix nanoseconds).
    struct CallerTimes: Sendable {
        var start: UInt64
        var end: UInt64?
        var childEnd: UInt64?
    }

    struct HeldSpan: Sendable {
        var span: Span
        var context: SpanContext
        var since: UInt64
    }

    var hops = FixedKeyTable<HopKey, Hop>()
    var servers = FixedKeyTable<DigestKey, InFlightServers>()
    var spareServerLists = SpareLists<InFlightServer>()
    var threads = FixedKeyTable<ThreadKey, ThreadServing>()
    /// Threads seen serving two requests at once: event loops, where a thread says nothing
    /// about which request an outgoing call is for. Bounded.
    var multiplexed = FixedKeyTable<ThreadKey, Bool>()
    /// Provisional traces still waiting → when they give up (monotonic).
    var waiting: [UInt64: UInt64] = [:]
    /// Recent resolutions in a ring indexed by provisional number: no allocation per request.
    var resolutions: [Resolution?] = Array(repeating: nil, count: 1 << 14)
    var nextProvisional: UInt64 = 1
    /// The latest `now` given to `release` (monotonic): a wait starts no earlier, so that an
    /// agent reading events late still gives a caller's late write its whole window.
    var releasedAt: UInt64 = 0
    var held: [HeldSpan] = []
    /// Starts and ends of client requests in flight and the latest end of a server request
    /// that took each as its parent, by client span: the two ends of a hop read the clock at
    /// their own syscalls' ends, so a child is kept inside its parent (`keepInsideCaller`,
    /// `clampEnd`). One entry per caller, looked up once at each step. Bounded.
    var callers = FixedKeyTable<SpanID, CallerTimes>()
    /// How far a child is moved to stay inside its parent at most.
    static let skewNanos: UInt64 = 2_000_000
    static let maxClamps = 131072

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    static let maxPublished = 32
    static let maxMultiplexed = 65536
}
