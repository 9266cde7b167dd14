/// What a `ConnectionTracker` knows about one socket of one process.
struct TrackedConnection: Sendable {
    /// Captured bytes kept while the first bytes of a connection are too few to tell
    /// whether it speaks HTTP.
    struct HeldBytes: Sendable {
        var direction: Direction
        var payload: ArraySlice<UInt8>
        var gap: Int
        var timestamp: UInt64
        var tid: Int32
    }

    enum Decoding: Sendable {
        case undetected([HeldBytes])
        case http(HTTP1ConnectionDecoder)
        /// Opaque bytes. While `replyDirection` is set, the first bytes that way are checked:
        /// an HTTP response to bytes that were not HTTP is a decode error.
        case tcp(replyDirection: Direction?)
    }

    var socketID: UInt64
    var pid: Int32
    var fd: Int32
    var tid: Int32
    var role: ConnectionRole
    var local: SocketAddress
    var peer: SocketAddress
    /// When the connection was opened or first seen (monotonic).
    var start: UInt64
    var lastActivity: UInt64
    var bytesSent = 0
    var bytesReceived = 0
    var httpSpans = 0
    var decoding: Decoding
    /// Whether the connection gives a connection span when it gave no HTTP span (`tcp` decoding on).
    var spansConnection: Bool
    /// The first captured bytes moved either way (at most `leadCapacity`), for
    /// `SpanLinkHints.requestDigest` of a connection span.
    var lead: [UInt8] = []

    static let leadCapacity = 64

    /// Who is at either end: what the spans of the connection need of it.
    struct Ends: Sendable {
        var pid: Int32
        var role: ConnectionRole
        var local: SocketAddress
        var peer: SocketAddress
    }

    var ends: Ends { Ends(pid: pid, role: role, local: local, peer: peer) }

    init(event: CaptureEvent, role: ConnectionRole, protocols: Set<TracedProtocol>) {
        socketID = event.socketID
        pid = event.pid
        fd = event.fd
        tid = event.tid
        self.role = role
        local = event.local
        peer = event.peer
        start = event.timestamp
        lastActivity = event.timestamp
        decoding = protocols.contains(.http) ? .undetected([]) : .tcp(replyDirection: nil)
        spansConnection = protocols.contains(.tcp)
    }

    /// Takes one read or write; returns what HTTP decoding found.
    mutating func receive(_ event: CaptureEvent, direction: Direction) -> [HTTP1ConnectionEvent] {
        lastActivity = max(lastActivity, event.timestamp)
        if local == .unspecified { local = event.local }
        if peer == .unspecified { peer = event.peer }
        let moved = max(0, event.totalLength)
        switch direction {
        case .egress: bytesSent += moved
        case .ingress: bytesReceived += moved
        }
        guard moved > 0 else { return [] }
        let payload = event.payload.prefix(moved)
        if lead.isEmpty, bytesSent + bytesReceived == moved { lead = Array(payload.prefix(Self.leadCapacity)) }
        let gap = moved - payload.count

        switch decoding {
        case .http(var decoder):
            decoding = .tcp(replyDirection: nil)  // keeps the decoder uniquely referenced
            let events = decoder.receive(stream(direction), bytes: payload, gap: gap, timestamp: event.timestamp, tid: event.tid)
            decoding = .http(decoder)
            return events
        case .tcp(let replyDirection):
            guard replyDirection == direction else { return [] }
            decoding = .tcp(replyDirection: nil)
            guard HTTP1MessageStart(classifying: payload) == .response else { return [] }
            return [.decodeError(HTTP1DecodeError(.invalidStartLine, "HTTP response to bytes that are not HTTP"))]
        case .undetected(var heldBytes):
            if let first = heldBytes.first, first.direction != direction {
                // The other side spoke before the first bytes could be told apart.
                decoding = .tcp(replyDirection: nil)
                return []
            }
            decoding = .tcp(replyDirection: nil)  // keeps the held bytes uniquely referenced
            heldBytes.append(HeldBytes(direction: direction, payload: payload, gap: gap, timestamp: event.timestamp, tid: event.tid))
            return detect(heldBytes)
        }
    }

    /// Decides from the first bytes in one direction whether the connection speaks HTTP.
    private mutating func detect(_ heldBytes: [HeldBytes]) -> [HTTP1ConnectionEvent] {
        guard let direction = heldBytes.first?.direction else { return [] }
        var prefix: [UInt8] = []
        for held in heldBytes {
            prefix += held.payload
            if held.gap > 0 { break }
        }
        let start = HTTP1MessageStart(classifying: prefix)
        let complete = heldBytes.contains { $0.gap > 0 }
        let requestRole: ConnectionRole = direction == .ingress ? .server : .client
        switch start {
        case .undecided where !complete:
            decoding = .undetected(heldBytes)
            return []
        case .request where role == .unknown || role == requestRole:
            role = requestRole
        case .response where role == .unknown:
            // A connection that existed before tracing, seen first answering a request.
            role = direction == .ingress ? .client : .server
        case .response:
            decoding = .tcp(replyDirection: nil)
            return [.decodeError(HTTP1DecodeError(.invalidStartLine, "HTTP response before any request"))]
        default:
            let speaksFirst = role == .unknown || role == requestRole
            decoding = .tcp(replyDirection: speaksFirst ? (direction == .ingress ? .egress : .ingress) : nil)
            return []
        }
        var decoder = HTTP1ConnectionDecoder()
        var events: [HTTP1ConnectionEvent] = []
        for held in heldBytes {
            events += decoder.receive(stream(held.direction), bytes: held.payload, gap: held.gap, timestamp: held.timestamp, tid: held.tid)
        }
        decoding = .http(decoder)
        return events
    }

    /// Requests are what a server reads and what a client writes.
    private func stream(_ direction: Direction) -> HTTP1ConnectionDecoder.Stream {
        (role == .client) == (direction == .egress) ? .requests : .responses
    }

    /// Orders connections by when they were opened or first seen, for stable output.
    static func openedBefore(_ a: TrackedConnection, _ b: TrackedConnection) -> Bool {
        (a.start, a.pid, a.fd) < (b.start, b.pid, b.fd)
    }

    /// Orders connections by their last activity, least recent first.
    static func activeBefore(_ a: TrackedConnection, _ b: TrackedConnection) -> Bool {
        (a.lastActivity, a.pid, a.fd) < (b.lastActivity, b.pid, b.fd)
    }

    /// Ends HTTP decoding: exchanges still waiting are reported with `reason`.
    mutating func finishHTTP(at timestamp: UInt64, reason: String) -> [HTTP1ConnectionEvent] {
        guard case .http(var decoder) = decoding else { return [] }
        let events = decoder.finish(at: timestamp, reason: reason)
        decoding = .http(decoder)
        return events
    }
}
