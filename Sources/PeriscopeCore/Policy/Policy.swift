/// What to trace and how: the `spec` of an `InstrumentationPolicy` without its
/// Kubernetes selectors (`podSelector`, `containers`). A standalone agent reads it from
/// `--config FILE`; in a cluster the controller resolves it per node.
///
/// Every field is optional in YAML; `Policy()` (and an empty document) traces every
/// process on every port with the default settings documented below.
public struct Policy: Sendable, Equatable {
    /// `spec.ports`: server ports to trace. Default empty, meaning every port.
    public var ports: PortSet
    /// `spec.executables`: globs on the executable path of processes to trace.
    /// Default empty. When both this and `pids` are empty every process is a target.
    public var executables: [Glob]
    /// `spec.pids`: processes to trace together with all their descendants. Default empty.
    public var pids: [Int32]
    /// `spec.protocols`: decoders to run. Default (and when given as `[]`) every one.
    public var protocols: Set<TracedProtocol>
    /// `spec.sampling`: head sampler. Default `parentbased_always_on`.
    public var sampler: Sampler
    /// `spec.exclude`: processes and routes never traced. Default nothing.
    public var exclude: Exclude
    /// `spec.routes`: patterns reported as `http.route`, first match wins. Default none.
    public var routes: [RoutePattern]
    /// `spec.capture`: how much the kernel copies and what is kept of it.
    public var capture: Capture
    /// `spec.export`: where spans go besides the agent's own output. Default nowhere.
    public var export: Export
    /// `spec.resourceAttributes`: added to the OpenTelemetry resource. Default none.
    public var resourceAttributes: [String: String]
    /// `spec.propagation`: trace context written into the selected processes' outgoing
    /// requests (`auto`) or not (`none`). Default `auto`.
    public var propagation: ContextPropagation

    public init(
        ports: PortSet = PortSet(), executables: [Glob] = [], pids: [Int32] = [],
        protocols: Set<TracedProtocol> = Set(TracedProtocol.allCases), sampler: Sampler = .default,
        exclude: Exclude = Exclude(), routes: [RoutePattern] = [], capture: Capture = Capture(),
        export: Export = Export(), resourceAttributes: [String: String] = [:], propagation: ContextPropagation = .auto
    ) {
        self.ports = ports
        self.executables = executables
        self.pids = pids
        self.protocols = protocols
        self.sampler = sampler
        self.exclude = exclude
        self.routes = routes
        self.capture = capture
        self.export = export
        self.resourceAttributes = resourceAttributes
        self.propagation = propagation
    }

    /// Whether a server port passes the port filter (always, when `ports` is empty).
    public func tracesPort(_ port: UInt16) -> Bool {
        ports.isEmpty || ports.contains(port)
    }

    /// `spec.exclude`.
    public struct Exclude: Sendable, Equatable {
        /// `exclude.pids`: never traced, nor are their descendants. Default empty.
        public var pids: [Int32]
        /// `exclude.executables`: globs; matching processes and their descendants are
        /// never traced. Default empty.
        public var executables: [Glob]
        /// `exclude.routes`: requests whose path equals or matches one of these are
        /// dropped. Default empty.
        public var routes: [RoutePattern]

        public init(pids: [Int32] = [], executables: [Glob] = [], routes: [RoutePattern] = []) {
            self.pids = pids
            self.executables = executables
            self.routes = routes
        }
    }

    /// `spec.capture`.
    public struct Capture: Sendable, Equatable {
        /// Smallest and largest `payloadBytes` accepted.
        public static let payloadBytesRange = 64...8192

        /// `capture.payloadBytes`: bytes of each read or write the kernel copies for
        /// decoding, 64…8192. Default 2048.
        public var payloadBytes: Int
        /// `capture.keepQuery`: keep the query string in `http.target`; when false the
        /// pipeline strips it. Default false.
        public var keepQuery: Bool
        /// `capture.keepQueryValues`: keep literal values in `db.query.text`; when false
        /// database decoders replace SQL literals with `?` and keep only a Redis command's
        /// name and key. Passwords are never kept. Default false.
        public var keepQueryValues: Bool

        public init(payloadBytes: Int = 2048, keepQuery: Bool = false, keepQueryValues: Bool = false) {
            self.payloadBytes = payloadBytes
            self.keepQuery = keepQuery
            self.keepQueryValues = keepQueryValues
        }
    }

    /// `spec.export`.
    public struct Export: Sendable, Equatable {
        /// `export.otlp`: OTLP/HTTP export. Default nil (no export).
        public var otlp: OTLP?

        public init(otlp: OTLP? = nil) {
            self.otlp = otlp
        }

        /// `export.otlp`.
        public struct OTLP: Sendable, Equatable {
            /// `export.otlp.endpoint`: base URL of an OTLP/HTTP receiver, e.g.
            /// `http://otel-collector.observability:4318`. Required; http or https.
            public var endpoint: String

            public init(endpoint: String) {
                self.endpoint = endpoint
            }
        }
    }
}
