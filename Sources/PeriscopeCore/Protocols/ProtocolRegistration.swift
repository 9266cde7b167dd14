/// How the tracker finds and starts one protocol's decoder. Each protocol folder defines
/// its registration as a static member; `ProtocolRegistry.all` lists them.
public struct ProtocolRegistration: Sendable {
    /// The policy's name for the protocol (`spec.protocols`).
    public var name: TracedProtocol
    /// Names the decoder where `name` is shared (`http1`, `http2`): the `protocol` of its
    /// decode errors.
    public var label: String
    /// Other names that also turn it on (HTTP/2 is on with `http` and with `grpc`).
    public var alsoEnabledBy: Set<TracedProtocol>
    /// Whether the server speaks first (a greeting, as MySQL's). When it does not, a
    /// connection whose server is seen answering before any request is not this protocol.
    public var serverSpeaksFirst: Bool
    /// `ProtocolDecoder.detect` of the decoder.
    public var detect: @Sendable (ArraySlice<UInt8>, MessageStream) -> ProtocolDetection
    /// A decoder for a new connection.
    public var make: @Sendable (ProtocolConfiguration) -> any ProtocolDecoder
    /// The `Upgrade` token that switches a connection to this protocol in place (`h2c`);
    /// nil when none does.
    public var upgradeToken: String?
    /// A decoder for a connection switched to this protocol (`ProtocolOutput.upgraded`),
    /// before it is given the upgrade's remainder.
    public var makeUpgraded: (@Sendable (ProtocolUpgrade, ProtocolConfiguration) -> any ProtocolDecoder)?

    public init(
        name: TracedProtocol, label: String? = nil, alsoEnabledBy: Set<TracedProtocol> = [], serverSpeaksFirst: Bool = false,
        detect: @escaping @Sendable (ArraySlice<UInt8>, MessageStream) -> ProtocolDetection,
        make: @escaping @Sendable (ProtocolConfiguration) -> any ProtocolDecoder,
        upgradeToken: String? = nil,
        makeUpgraded: (@Sendable (ProtocolUpgrade, ProtocolConfiguration) -> any ProtocolDecoder)? = nil
    ) {
        self.name = name
        self.label = label ?? name.rawValue
        self.alsoEnabledBy = alsoEnabledBy
        self.serverSpeaksFirst = serverSpeaksFirst
        self.detect = detect
        self.make = make
        self.upgradeToken = upgradeToken
        self.makeUpgraded = makeUpgraded
    }

    /// The enabled protocol that takes over a connection switching to `token`; nil when none does.
    public static func upgrading(to token: String, enabledBy protocols: Set<TracedProtocol>) -> ProtocolRegistration? {
        ProtocolRegistry.all.first {
            $0.upgradeToken == token && $0.makeUpgraded != nil && $0.isEnabled(by: protocols)
        }
    }

    /// Whether a process decoding `protocols` runs this decoder.
    public func isEnabled(by protocols: Set<TracedProtocol>) -> Bool {
        protocols.contains(name) || !protocols.isDisjoint(with: alsoEnabledBy)
    }
}

/// What a policy tells every decoder, and where on its connection a decoder starts.
public struct ProtocolConfiguration: Sendable, Equatable {
    /// Keep URL query strings (`capture.keepQuery`).
    public var keepQuery: Bool
    /// Keep literal values in database statements (`capture.keepQueryValues`).
    public var keepQueryValues: Bool
    /// Decoding starts after the connection's beginning (it was open before tracing, or
    /// requests were shed): state its first requests set up (Redis's `SELECT`) is unknown.
    public var joinsMidway: Bool

    public init(keepQuery: Bool = false, keepQueryValues: Bool = false, joinsMidway: Bool = false) {
        self.keepQuery = keepQuery
        self.keepQueryValues = keepQueryValues
        self.joinsMidway = joinsMidway
    }
}
