/// What a `ConnectionTracker` decodes and how much it keeps.
public struct ConnectionTrackerConfiguration: Sendable, Equatable {
    /// Decoders to run, from a policy's `spec.protocols`. Default: `[.http, .tcp]`.
    /// With `.http`, connections whose first bytes are HTTP/1.x give one span per exchange;
    /// with `.tcp`, every other connection gives one span when it ends.
    public var protocols: Set<TracedProtocol>
    /// Processes that run other decoders than `protocols` (see `PolicyAssignment`). A
    /// connection keeps the decoders it started with. Default: none.
    public var protocolsByPID: [Int32: Set<TracedProtocol>]
    /// Keep the query string in `HTTPDetails.path` (and so in `url.path`). Default: false,
    /// because query strings often carry personal data or secrets.
    public var keepQuery: Bool
    /// The sampler deciding traces that begin in a process (`spec.sampling`). Default:
    /// `Sampler.default`.
    public var sampler: Sampler
    /// Processes that follow another policy's sampler (see `PolicyAssignment`). Default: none.
    public var samplersByPID: [Int32: Sampler]
    /// Keep literal values in database statements. Default: false.
    public var keepQueryValues: Bool
    /// The most connections tracked at once. Beyond it the least recently active are dropped
    /// without a span and counted in `ConnectionTrackerCounters.connectionsEvicted`.
    /// Default: 65536.
    public var maxConnections: Int

    public init(
        protocols: Set<TracedProtocol> = [.http, .tcp], protocolsByPID: [Int32: Set<TracedProtocol>] = [:],
        keepQuery: Bool = false, maxConnections: Int = 65536, sampler: Sampler = .default,
        samplersByPID: [Int32: Sampler] = [:], keepQueryValues: Bool = false
    ) {
        self.sampler = sampler
        self.samplersByPID = samplersByPID
        self.keepQueryValues = keepQueryValues
        self.protocols = protocols
        self.protocolsByPID = protocolsByPID
        self.keepQuery = keepQuery
        self.maxConnections = maxConnections
    }

    /// The decoders for connections of `pid`.
    public func protocols(of pid: Int32) -> Set<TracedProtocol> {
        protocolsByPID.isEmpty ? protocols : protocolsByPID[pid] ?? protocols
    }

    /// The sampler for traces that begin in `pid`.
    public func sampler(of pid: Int32) -> Sampler {
        samplersByPID.isEmpty ? sampler : samplersByPID[pid] ?? sampler
    }

    /// What every decoder is told.
    public var protocolConfiguration: ProtocolConfiguration {
        ProtocolConfiguration(keepQuery: keepQuery, keepQueryValues: keepQueryValues)
    }
}
