/// One instrument's current values: what OTLP calls a `Metric` and Prometheus a metric
/// family. Values are cumulative since each point's start time.
public struct Metric: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case histogram
        /// A monotonic sum.
        case counter
        case gauge
    }

    /// Dotted OpenTelemetry name, e.g. `http.server.request.duration`.
    public var name: String
    public var description: String
    /// UCUM unit: `s`, `By`, `1`, or a `{thing}` annotation.
    public var unit: String
    public var kind: Kind
    public var points: [Point]

    public init(name: String, description: String, unit: String, kind: Kind, points: [Point]) {
        self.name = name
        self.description = description
        self.unit = unit
        self.kind = kind
        self.points = points
    }

    public enum Value: Sendable, Equatable {
        case int(Int64)
        case double(Double)
        case histogram(Histogram)
    }

    /// One time series.
    public struct Point: Sendable, Equatable {
        /// Whose traffic this counts; nil for the agent itself.
        public var process: ProcessKey?
        public var attributes: [Attribute]
        public var startTimeUnixNano: UInt64
        public var value: Value

        public init(process: ProcessKey?, attributes: [Attribute], startTimeUnixNano: UInt64, value: Value) {
            self.process = process
            self.attributes = attributes
            self.startTimeUnixNano = startTimeUnixNano
            self.value = value
        }
    }
}

/// A traced process as a metrics resource: the pid and the executable it ran, so that
/// a reused pid starts a new resource, and the policy it followed, whose resource attributes
/// and export its telemetry takes.
public struct ProcessKey: Sendable, Hashable {
    public var pid: Int32
    public var executable: String
    public var policy: PolicyID?

    public init(pid: Int32, executable: String, policy: PolicyID? = nil) {
        self.pid = pid
        self.executable = executable
        self.policy = policy
    }

    /// The process a span came from, under the policy the span names.
    public init(of span: Span) {
        self.init(pid: span.pid, executable: span.executable ?? "", policy: span.policy)
    }
}
