/// What a `ConnectionTracker` knows about one socket of one process.
struct TrackedConnection: Sendable {
    /// Captured bytes kept while the first bytes of a connection are too few to tell which
    /// protocol it speaks.
    struct HeldBytes: Sendable {
        var direction: Direction
        var payload: ArraySlice<UInt8>
        var gap: Int
        var tail: ArraySlice<UInt8> = []
        var chunkWalk: ChunkWalk?
        var frameWalk = FrameWalk()
        var timestamp: UInt64
        var tid: Int32
    }

    enum Decoding: Sendable {
        case undetected([HeldBytes])
        /// `decoder` decodes.
        case decoding
        /// Not decoded: no enabled protocol recognised the first bytes. While `replyDirection`
        /// is set, the first bytes that way are checked: an answer in a protocol to bytes that
        /// were not that protocol is a decode error.
        case opaque(replyDirection: Direction?)
    }

    /// What a connection carries after it switched protocols to one that is not decoded
    /// (a WebSocket after `101 Switching Protocols`): one span from the switch to the end.
    struct Continuation: Sendable {
        /// The span's name: the protocol switched to, or `tcp`.
        var name: String
        var start: UInt64
        /// The connection's byte counts at the switch.
        var bytesSent: Int
        var bytesReceived: Int
        /// A child of the exchange that switched.
        var context: SpanContext
    }

    /// A request in flight: its context, decided when it started.
    struct InFlight: Sendable {
        var exchangeID: UInt64
        var context: SpanContext
        var digest: UInt64?
        var tid: Int32
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
    /// When the process was last seen to still hold the socket while it was idle.
    var confirmedOpen: UInt64 = 0
    /// Since when the connection counts as idle.
    var idleSince: UInt64 { max(lastActivity, confirmedOpen) }
    var bytesSent = 0
    var bytesReceived = 0
    /// Operations that gave spans.
    var operations = 0
    /// Waiting for another holder of its socket since its descriptor closed (`handOff`).
    var handedOff = false
    var decoding: Decoding
    /// The protocol's decoder while `decoding` is `.decoding`; nil otherwise. A field of its
    /// own rather than the enum's payload, so that each read or write is decoded where the
    /// decoder is stored (`decoder!.receive`): taking it out of the enum and putting it back
    /// copied its box and counted references to it for every segment.
    var decoder: (any ProtocolDecoder)?
    /// The `ProtocolRegistration.label` of the protocol decoding the connection.
    var protocolLabel: String?
    let protocols: Set<TracedProtocol>
    /// Whether the connection gives a connection span when it gave no operation span (`tcp` on).
    let spansConnection: Bool
    var inFlight: [InFlight] = []
    /// The connection span's context, decided at its first bytes the way requests go.
    var connectionContext: SpanContext?
    /// The digest of those bytes.
    var connectionDigest: UInt64?
    /// Set once the connection switched to a protocol that is not decoded.
    var continuation: Continuation?
    /// The context the kernel decided for the request the current event starts, if any.
    var kernelContext: KernelTraceContext?
    /// Decoding starts after the connection's beginning: first seen mid-stream (open before
    /// tracing) or detected afresh after shed requests.
    var joinsMidway: Bool
    /// The context the kernel carried in a TCP header option, for the connection's first request.
    var connectionKernelContext: KernelTraceContext?
    /// Whether the other end is a socket traced here, as learnt at `ConnectionTracker.endpointsVersion`
    /// `otherEndCheckedAt` (0: not yet).
    var otherEndTraced = false
    var otherEndCheckedAt: UInt64 = 0
    /// Whether the connection carries TLS: its socket bytes are records (counted, not
    /// decoded) and its plaintext, read at the TLS library, is what is decoded.
    var encrypted = false
    /// Plaintext bytes the process wrote and read through its TLS library.
    var plaintextSent = 0
    var plaintextReceived = 0
    /// The first bytes looked like the start of a TLS handshake; they wait undecided until
    /// the TLS library's probes confirm it, or the next bytes are decoded as usual.
    var handshakeHeld = false

    /// Bytes a connection is held undetected at most.
    static let detectionLimit = 4096

    /// Who is at either end.
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
        self.protocols = protocols
        let decodes = ProtocolRegistry.all.contains { $0.isEnabled(by: protocols) }
        decoding = decodes ? .undetected([]) : .opaque(replyDirection: nil)
        spansConnection = protocols.contains(.tcp)
        joinsMidway = role == .unknown
    }

    /// What a free slot of `ConnectionTable` holds.
    static let vacant = TrackedConnection(
        event: CaptureEvent(kind: .closed, timestamp: 0, pid: 0, tid: 0, fd: -1), role: .unknown, protocols: []
    )

    /// Handed off by the process that accepted or opened it, and no byte moved before or
    /// since: a client that connected and left (a TCP health check against a forking
    /// server). No one served it; it ends without a span rather than one under the pid of
    /// the process that only passed it on.
    var handedOffUnused: Bool { handedOff && bytesSent == 0 && bytesReceived == 0 }

    /// Whether this end writes requests (or reads them, `false`); nil while the role is unknown.
    var isClient: Bool? {
        switch role {
        case .client: true
        case .server: false
        case .unknown: nil
        }
    }

    /// Which stream bytes moved `direction` belong to.
    func stream(_ direction: Direction) -> MessageStream {
        (role == .client) == (direction == .egress) ? .requests : .responses
    }

    /// What the tracker needs to know after a read or write besides what decoding found.
    struct Received {
        /// Who was at either end before, when the bytes changed it (a role or an address learnt).
        var endsBefore: Ends?
        /// The bytes are the first request bytes of a connection span (`startsConnectionSpan`).
        var startsConnectionSpan: Bool
    }

    /// `receive`, and what changed.
    mutating func receiveNoting(
        _ event: inout CaptureEvent, direction: Direction, configuration: ProtocolConfiguration, into output: inout [ProtocolOutput]
    ) -> Received {
        let before = ends
        receive(&event, direction: direction, configuration: configuration, into: &output)
        let changed = before.role != role || before.local != local || before.peer != peer
        return Received(endsBefore: changed ? before : nil, startsConnectionSpan: startsConnectionSpan(direction))
    }

    /// Takes one read or write; appends what decoding found. The event is taken in place
    /// (`ConnectionTracker.handle(inPlace:into:)`) and not changed.
    mutating func receive(_ event: inout CaptureEvent, direction: Direction, configuration: ProtocolConfiguration, into output: inout [ProtocolOutput]) {
        // The event's fields are read once: switching on a field of the event in place makes
        // the compiler copy the whole event, payload reference included, each time.
        let timestamp = event.timestamp
        let thread = event.tid
        let tls = event.tls
        lastActivity = max(lastActivity, timestamp)
        if local == .unspecified { local = event.local }
        if peer == .unspecified { peer = event.peer }
        let moved = max(0, event.totalLength)
        // The captured prefix, and the syscall's last bytes when the capture kept them apart
        // (the last of the `gap` bytes: framing at the end of a long write, a chunk's CRLF or
        // the last chunk, for decoders that look). Each sliced out of the event's bytes only
        // where it is kept (a slice is a reference counted at its making and its end), the tail
        // only where there is one.
        let captured = event.payload.count
        var tailCount = min(max(0, event.tailLength), captured)
        if captured > moved { tailCount = 0 }
        let prefixEnd = min(captured - tailCount, moved)
        guard takeTLS(
            tls, timestamp: timestamp, tid: thread, direction: direction, moved: moved, payload: event.payload[..<prefixEnd],
            configuration: configuration, into: &output
        )
        else { return }
        guard moved > 0 else { return }
        let decodedFrom = output.count
        defer { if encrypted { Self.markHTTPS(&output, from: decodedFrom) } }
        let gap = moved - prefixEnd
        // The state's kind looked at: comparing the optional decoder with nil copies it.
        if case .decoding = decoding {
            var segment = ProtocolSegment(stream: stream(direction), bytes: event.payload[..<prefixEnd], gap: gap, timestamp: timestamp, tid: thread)
            if tailCount > 0 { segment.tail = event.payload[(captured - tailCount)...] }
            segment.chunkWalk = event.chunkWalk
            // Set only when the kernel walked frames: copying the empty walk still counts a reference.
            if !event.frameWalk.records.isEmpty { segment.frameWalk = event.frameWalk }
            let count = output.count
            // Consumed: a variable passed as it is would be copied whole for the call.
            decoder!.receive(consume segment, into: &output)
            if output.count > count, case .upgraded(let upgrade) = output[output.count - 1] {
                switchProtocol(upgrade, configuration: configuration, into: &output)
            }
            return
        }
        switch decoding {
        case .decoding:
            break  // decoded above
        case .opaque(let replyDirection):
            guard replyDirection == direction else { return }
            decoding = .opaque(replyDirection: nil)
            let answered = ProtocolRegistry.all.contains {
                $0.isEnabled(by: protocols) && !$0.serverSpeaksFirst && $0.detect(event.payload[..<prefixEnd], .responses) == .matches
            }
            if answered { output.append(.decodeError(reason: "answer_to_unknown_request")) }
        case .undetected(var held):
            if let first = held.first, first.direction != direction {
                // The other side spoke before the first bytes could be told apart.
                decoding = .opaque(replyDirection: nil)
                return
            }
            decoding = .opaque(replyDirection: nil)  // keeps the held bytes uniquely referenced
            held.append(HeldBytes(
                direction: direction, payload: event.payload[..<prefixEnd], gap: gap, tail: tailCount > 0 ? event.payload[(captured - tailCount)...] : [], chunkWalk: event.chunkWalk, frameWalk: event.frameWalk,
                timestamp: timestamp, tid: thread
            ))
            detect(held, configuration: configuration, into: &output)
        }
    }

    /// Counts the bytes of a read or write (`tls`: the layer they were seen at) where they
    /// belong; whether they are to be decoded. TLS records (flagged by the kernel, or a handshake seen as a connection's first bytes) are counted
    /// as the connection's bytes and never decoded; plaintext from the TLS library is decoded,
    /// from the start of a fresh detection the first time. `payload` (the captured prefix) is
    /// sliced only when looked at: most reads and writes never need it here.
    private mutating func takeTLS(
        _ tls: TLSLayer?, timestamp: UInt64, tid: Int32, direction: Direction, moved: Int, payload: @autoclosure () -> ArraySlice<UInt8>,
        configuration: ProtocolConfiguration, into output: inout [ProtocolOutput]
    ) -> Bool {
        if tls == .plaintext {
            if !encrypted { startEncrypted() }
            switch direction {
            case .egress: plaintextSent += moved
            case .ingress: plaintextReceived += moved
            }
            return true
        }
        switch direction {
        case .egress: bytesSent += moved
        case .ingress: bytesReceived += moved
        }
        if encrypted { return false }
        if tls == .records {
            startEncrypted()
            return false
        }
        // The state's kind looked at first: binding what it holds copies it whole, decoder
        // included, for every read and write of a connection that decodes.
        guard case .undetected = decoding else { return true }
        if case .undetected(let held) = decoding {
            if held.isEmpty, moved > 0, TLSLayer.startsHandshake(payload()) {
                // Possibly TLS (servers peek at one byte first): held without detection, so
                // that no connection context is decided on records.
                handshakeHeld = true
                let bytes = payload()
                decoding = .undetected([HeldBytes(direction: direction, payload: bytes, gap: moved - bytes.count, timestamp: timestamp, tid: tid)])
                return false
            }
            if handshakeHeld {
                // Cleartext after all (or a library not probed): detection as usual.
                handshakeHeld = false
                if let first = held.first, first.direction != direction {
                    detect(held, configuration: configuration, into: &output)
                    if case .undetected = decoding { decoding = .opaque(replyDirection: nil) }
                }
            }
        }
        return true
    }

    /// The connection turned out to carry TLS: what was held of its first bytes (records,
    /// e.g. a server peeking at the handshake) is dropped and its plaintext will be detected afresh.
    private mutating func startEncrypted() {
        encrypted = true
        handshakeHeld = false
        if case .decoding = decoding { return }
        let decodes = ProtocolRegistry.all.contains { $0.isEnabled(by: protocols) }
        decoding = decodes ? .undetected([]) : .opaque(replyDirection: nil)
    }

    /// HTTP exchanges found on a TLS connection are `https`.
    static func markHTTPS(_ output: inout [ProtocolOutput], from start: Int) {
        for index in start..<output.count {
            guard case .operation(var operation) = output[index], operation.http != nil else { continue }
            operation.http?.scheme = "https"
            output[index] = .operation(operation)
        }
    }

    /// Decides from the first bytes in one direction which protocol the connection speaks.
    private mutating func detect(_ held: [HeldBytes], configuration: ProtocolConfiguration, into output: inout [ProtocolOutput]) {
        guard let direction = held.first?.direction else { return }
        var prefix: [UInt8] = []
        for bytes in held {
            prefix += bytes.payload
            if bytes.gap > 0 { break }
        }
        let complete = held.contains { $0.gap > 0 } || prefix.count >= Self.detectionLimit
        let streams: [MessageStream] = role == .unknown ? [.requests, .responses] : [stream(direction)]
        var undecided = false
        for registration in ProtocolRegistry.all where registration.isEnabled(by: protocols) {
            for candidate in streams {
                switch registration.detect(prefix[...], candidate) {
                case .matches where role != .unknown && candidate == .responses && !registration.serverSpeaksFirst:
                    // The server answered before any request.
                    decoding = .opaque(replyDirection: nil)
                    output.append(.decodeError(reason: "answer_before_request"))
                    return
                case .matches:
                    if role == .unknown {
                        // A connection that existed before tracing: its role from what it says.
                        role = (candidate == .requests) == (direction == .egress) ? .client : .server
                    }
                    var configuration = configuration
                    configuration.joinsMidway = joinsMidway
                    decoding = .decoding
                    decoder = registration.make(configuration)
                    protocolLabel = registration.label
                    for bytes in held {
                        var segment = ProtocolSegment(stream: stream(bytes.direction), bytes: bytes.payload, gap: bytes.gap, timestamp: bytes.timestamp, tid: bytes.tid)
                        segment.tail = bytes.tail
                        segment.chunkWalk = bytes.chunkWalk
                        segment.frameWalk = bytes.frameWalk
                        guard case .decoding = decoding else { break }
                        let count = output.count
                        decoder!.receive(segment, into: &output)
                        if output.count > count, case .upgraded(let upgrade) = output[output.count - 1] {
                            switchProtocol(upgrade, configuration: configuration, into: &output)
                        }
                    }
                    return
                case .needMoreBytes:
                    undecided = true
                case .doesNotMatch:
                    break
                }
            }
        }
        if undecided && !complete {
            decoding = .undetected(held)
        } else {
            // The side that spoke first said something no decoder knows; its answer is checked.
            let speaksFirst = role == .unknown || stream(direction) == .requests
            decoding = .opaque(replyDirection: speaksFirst ? (direction == .ingress ? .egress : .ingress) : nil)
        }
    }

    /// The connection switched protocols: what follows is one span, a child of `parent`.
    mutating func continueAfter(_ upgrade: ProtocolUpgrade, context: SpanContext) {
        decoding = .opaque(replyDirection: nil)
        decoder = nil
        continuation = Continuation(
            name: upgrade.protocolName ?? "tcp", start: max(upgrade.timestamp, start),
            bytesSent: bytesSent, bytesReceived: bytesReceived, context: context
        )
    }

    /// The decoder reported (last in `output`) that the connection switches protocols. The
    /// enabled protocol registered for the switch decodes from here, starting with the bytes
    /// that followed it, and answers the request that asked for it. Without one, the
    /// switching exchange is reported as it is and the switch stays in `output` for the
    /// tracker (`continueAfter`).
    private mutating func switchProtocol(_ upgrade: ProtocolUpgrade, configuration: ProtocolConfiguration, into output: inout [ProtocolOutput]) {
        guard let name = upgrade.protocolName, let registration = ProtocolRegistration.upgrading(to: name, enabledBy: protocols),
              let make = registration.makeUpgraded
        else {
            if let operation = upgrade.operation { output.insert(.operation(operation), at: output.count - 1) }
            return
        }
        output.removeLast()
        var decoder = make(upgrade, configuration)
        protocolLabel = registration.label
        if let remainder = upgrade.remainder { decoder.receive(remainder, into: &output) }
        decoding = .decoding
        self.decoder = decoder
    }

    /// Ends decoding: operations still open are reported with `reason`.
    mutating func finishDecoding(at timestamp: UInt64, reason: String, into output: inout [ProtocolOutput]) {
        guard case .decoding = decoding, var decoder = decoder.take() else { return }
        decoding = .opaque(replyDirection: nil)
        let decodedFrom = output.count
        decoder.finish(at: timestamp, reason: reason, into: &output)
        if encrypted { Self.markHTTPS(&output, from: decodedFrom) }
    }

    /// Requests were shed before `timestamp`: what the decoder holds is abandoned and the
    /// connection is detected afresh from this request on.
    mutating func restartDecoding(at timestamp: UInt64, into output: inout [ProtocolOutput]) {
        finishDecoding(at: timestamp, reason: ConnectionEndReason.shed, into: &output)
        joinsMidway = true
        if ProtocolRegistry.all.contains(where: { $0.isEnabled(by: protocols) }) { decoding = .undetected([]) }
    }

    /// The in-flight request `exchangeID`, removed.
    mutating func takeInFlight(_ exchangeID: UInt64?) -> InFlight? {
        guard let exchangeID, !inFlight.isEmpty else { return nil }
        // The usual case, one request in flight at a time: nothing to search or shift.
        if inFlight.count == 1 { return inFlight[0].exchangeID == exchangeID ? inFlight.removeLast() : nil }
        guard let index = inFlight.firstIndex(where: { $0.exchangeID == exchangeID }) else { return nil }
        return inFlight.remove(at: index)
    }

    /// Whether bytes moved `direction` are the first request bytes of a connection that gives
    /// a connection span (one no decoder reads, before any protocol switch).
    func startsConnectionSpan(_ direction: Direction) -> Bool {
        // A connection a decoder took (`protocolLabel` set at detection) is never opaque again
        // (a restart after shedding detects afresh): known without matching `decoding`, which
        // copies it whole, at every read and write.
        guard protocolLabel == nil, connectionContext == nil, spansConnection, continuation == nil, carriesRequest(direction) else { return false }
        if case .opaque = decoding { return true }
        return false
    }

    /// Whether the first bytes moved `direction` are the connection's request: what a client
    /// writes or a server reads.
    func carriesRequest(_ direction: Direction) -> Bool {
        role != .unknown && stream(direction) == .requests
    }

    /// Orders connections by when they were opened or first seen, for stable output.
    static func openedBefore(_ a: TrackedConnection, _ b: TrackedConnection) -> Bool {
        (a.start, a.pid, a.fd) < (b.start, b.pid, b.fd)
    }

    /// Orders connections by their last activity, least recent first.
    static func activeBefore(_ a: TrackedConnection, _ b: TrackedConnection) -> Bool {
        (a.lastActivity, a.pid, a.fd) < (b.lastActivity, b.pid, b.fd)
    }
}
