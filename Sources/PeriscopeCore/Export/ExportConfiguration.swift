/// How the agent exports: its own OTLP/HTTP (protobuf) export of traces and metrics, the
/// settings every OTLP export uses (the agent's own and each policy's `export.otlp.endpoint`),
/// and a Prometheus `/metrics` endpoint. Resolved once at start from flags and the standard
/// OpenTelemetry environment variables, passed in as a dictionary; where each policy's
/// telemetry goes follows the policies in force (`ExportPlan`).
public struct ExportConfiguration: Sendable, Equatable {
    /// The agent's own OTLP export, which receives every span and metric; nil when the
    /// environment names no endpoint.
    public var otlp: OTLP?
    /// What every OTLP export uses besides its endpoints: headers, compression, timeouts, queue
    /// and batch sizes. Its endpoints are the agent's own, empty when it has none.
    public var settings: OTLP
    /// The Prometheus endpoint; nil when no port is configured.
    public var prometheus: Prometheus?

    public init(otlp: OTLP? = nil, settings: OTLP? = nil, prometheus: Prometheus? = nil) {
        self.otlp = otlp
        self.settings = settings ?? otlp ?? OTLP(tracesEndpoint: "", metricsEndpoint: "")
        self.prometheus = prometheus
    }

    /// The export of a policy whose `export.otlp.endpoint` is `endpoint` (the base URL of a
    /// receiver): `v1/traces` and `v1/metrics` under it, with `settings`.
    public func export(toPolicyEndpoint endpoint: String) -> OTLP {
        var export = settings
        export.tracesEndpoint = Self.appending("v1/traces", to: endpoint)
        export.metricsEndpoint = Self.appending("v1/metrics", to: endpoint)
        return export
    }

    public enum Compression: String, Sendable, Hashable {
        case none
        case gzip
    }

    public struct OTLP: Sendable, Hashable {
        /// Full URL spans are sent to. For the agent's own export, from
        /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with
        /// `/v1/traces` appended; for a policy's, its `export.otlp.endpoint` with `/v1/traces`.
        public var tracesEndpoint: String
        /// Full URL metrics are sent to, resolved like `tracesEndpoint` from
        /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` and `/v1/metrics`.
        public var metricsEndpoint: String
        /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`, then the per-signal
        /// `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `_METRICS_HEADERS`): `key=value` pairs
        /// separated by commas, values percent-decoded. Default none.
        public var headers: [Header]
        /// Request body compression (`OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none`). Default none.
        public var compression: Compression
        /// Longest one request may take (`OTEL_EXPORTER_OTLP_TIMEOUT`, milliseconds). Default 10 s.
        public var timeout: Duration
        /// Spans waiting to be exported at most; more are dropped and counted
        /// (`OTEL_BSP_MAX_QUEUE_SIZE`). Default 2048.
        public var maxQueueSize: Int
        /// Spans per request at most (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). Default 512.
        public var maxExportBatchSize: Int
        /// Longest a span waits for its batch to fill (`OTEL_BSP_SCHEDULE_DELAY`,
        /// milliseconds). Default 5 s.
        public var scheduleDelay: Duration
        /// How often metrics are sent (`OTEL_METRIC_EXPORT_INTERVAL`, milliseconds). Default 60 s.
        public var metricExportInterval: Duration
        /// How long a failed batch is retried before it is dropped and counted
        /// (`PERISCOPE_EXPORT_RETRY_TIMEOUT`, milliseconds). Default 30 s.
        public var retryTimeout: Duration
        /// How long shutdown may spend sending what is queued
        /// (`PERISCOPE_EXPORT_SHUTDOWN_TIMEOUT`, milliseconds). Default 5 s.
        public var shutdownTimeout: Duration

        public init(
            tracesEndpoint: String, metricsEndpoint: String, headers: [Header] = [], compression: Compression = .none,
            timeout: Duration = .seconds(10), maxQueueSize: Int = 2048, maxExportBatchSize: Int = 512,
            scheduleDelay: Duration = .seconds(5), metricExportInterval: Duration = .seconds(60),
            retryTimeout: Duration = .seconds(30), shutdownTimeout: Duration = .seconds(5)
        ) {
            self.tracesEndpoint = tracesEndpoint
            self.metricsEndpoint = metricsEndpoint
            self.headers = headers
            self.compression = compression
            self.timeout = timeout
            self.maxQueueSize = maxQueueSize
            self.maxExportBatchSize = maxExportBatchSize
            self.scheduleDelay = scheduleDelay
            self.metricExportInterval = metricExportInterval
            self.retryTimeout = retryTimeout
            self.shutdownTimeout = shutdownTimeout
        }
    }

    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Prometheus: Sendable, Equatable {
        /// TCP port of `/metrics` (`--metrics-port`, `PERISCOPE_METRICS_PORT`). No default:
        /// without one there is no endpoint.
        public var port: UInt16
        /// Address to listen on (`--metrics-address`, `PERISCOPE_METRICS_ADDRESS`). Default `0.0.0.0`.
        public var address: String

        public init(port: UInt16, address: String = "0.0.0.0") {
            self.port = port
            self.address = address
        }
    }

    static let endpointAllowed = "an http:// or https:// URL with a host and an optional port from 1 to 65535"

    /// Resolves the configuration; every malformed setting is an error naming it.
    /// - Parameters:
    ///   - metricsPort: `--metrics-port`, which wins over `PERISCOPE_METRICS_PORT`.
    ///   - metricsAddress: `--metrics-address`, which wins over `PERISCOPE_METRICS_ADDRESS`.
    public static func resolve(
        environment: [String: String], metricsPort: Int? = nil, metricsAddress: String? = nil
    ) throws(ExportConfigurationError) -> ExportConfiguration {
        var configuration = ExportConfiguration()
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingASCIIWhitespace(), !text.isEmpty else { return nil }
            return String(text)
        }
        func endpoint(_ name: String, _ text: String) throws(ExportConfigurationError) -> String {
            guard HTTPEndpoint(text) != nil else {
                throw ExportConfigurationError(code: .invalidEndpoint, setting: name, value: text, allowed: endpointAllowed)
            }
            return text
        }
        func signalEndpoint(_ variable: String, path: String) throws(ExportConfigurationError) -> String? {
            if let text = value(variable) { return try endpoint(variable, text) }
            if let text = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
                return appending(path, to: try endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", text))
            }
            return nil
        }
        func milliseconds(_ name: String, default fallback: Duration, range: ClosedRange<Int> = 1...86_400_000)
            throws(ExportConfigurationError) -> Duration
        {
            guard let text = value(name) else { return fallback }
            guard let number = PolicyNode.decimal(Substring(text)), range.contains(number) else {
                throw ExportConfigurationError(
                    code: .invalidValue, setting: name, value: text,
                    allowed: "a whole number of milliseconds from \(range.lowerBound) to \(range.upperBound)"
                )
            }
            return .milliseconds(number)
        }
        func count(_ name: String, default fallback: Int) throws(ExportConfigurationError) -> Int {
            guard let text = value(name) else { return fallback }
            guard let number = PolicyNode.decimal(Substring(text)), (1...1_000_000).contains(number) else {
                throw ExportConfigurationError(code: .invalidValue, setting: name, value: text, allowed: "a whole number from 1 to 1000000")
            }
            return number
        }

        let traces = try signalEndpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", path: "v1/traces")
        let metrics = try signalEndpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", path: "v1/metrics")
        do {
            var headers = try parseHeaders(value("OTEL_EXPORTER_OTLP_HEADERS"), setting: "OTEL_EXPORTER_OTLP_HEADERS")
            for name in ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"] {
                for header in try parseHeaders(value(name), setting: name) where !headers.contains(header) {
                    headers.append(header)
                }
            }
            var compression = Compression.none
            if let text = value("OTEL_EXPORTER_OTLP_COMPRESSION") {
                guard let parsed = Compression(rawValue: text.lowercased()) else {
                    throw ExportConfigurationError(
                        code: .invalidValue, setting: "OTEL_EXPORTER_OTLP_COMPRESSION", value: text, allowed: "gzip or none")
                }
                compression = parsed
            }
            let batch = try count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: 512)
            configuration.settings = OTLP(
                tracesEndpoint: traces ?? "", metricsEndpoint: metrics ?? "", headers: headers, compression: compression,
                timeout: try milliseconds("OTEL_EXPORTER_OTLP_TIMEOUT", default: .seconds(10)),
                maxQueueSize: max(try count("OTEL_BSP_MAX_QUEUE_SIZE", default: 2048), batch),
                maxExportBatchSize: batch,
                scheduleDelay: try milliseconds("OTEL_BSP_SCHEDULE_DELAY", default: .seconds(5)),
                metricExportInterval: try milliseconds("OTEL_METRIC_EXPORT_INTERVAL", default: .seconds(60)),
                retryTimeout: try milliseconds("PERISCOPE_EXPORT_RETRY_TIMEOUT", default: .seconds(30), range: 0...86_400_000),
                shutdownTimeout: try milliseconds("PERISCOPE_EXPORT_SHUTDOWN_TIMEOUT", default: .seconds(5), range: 0...86_400_000)
            )
            if traces != nil, metrics != nil { configuration.otlp = configuration.settings }
        }

        var port: Int?
        var portSetting = "--metrics-port"
        if let metricsPort {
            port = metricsPort
        } else if let text = value("PERISCOPE_METRICS_PORT") {
            portSetting = "PERISCOPE_METRICS_PORT"
            port = PolicyNode.decimal(Substring(text)) ?? -1
        }
        if let port {
            guard (1...65535).contains(port) else {
                throw ExportConfigurationError(
                    code: .invalidValue, setting: portSetting,
                    value: metricsPort.map(String.init) ?? value("PERISCOPE_METRICS_PORT") ?? "",
                    allowed: "a port from 1 to 65535")
            }
            let address = metricsAddress ?? value("PERISCOPE_METRICS_ADDRESS") ?? "0.0.0.0"
            configuration.prometheus = Prometheus(port: UInt16(port), address: address)
        }
        return configuration
    }

    /// `base` with `path` appended after exactly one `/`.
    static func appending(_ path: String, to base: String) -> String {
        base.hasSuffix("/") ? base + path : base + "/" + path
    }

    /// `k1=v1,k2=v2` with percent-encoded values (the OpenTelemetry format).
    static func parseHeaders(_ text: String?, setting: String) throws(ExportConfigurationError) -> [Header] {
        guard let text else { return [] }
        var headers: [Header] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.trimmingASCIIWhitespace()
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "="),
                  case let name = trimmed[..<equals].trimmingASCIIWhitespace(), !name.isEmpty,
                  name.utf8.allSatisfy(isTokenByte),
                  let value = percentDecoded(trimmed[trimmed.index(after: equals)...].trimmingASCIIWhitespace()),
                  !value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" })
            else {
                throw ExportConfigurationError(
                    code: .invalidValue, setting: setting, value: text,
                    allowed: "comma-separated name=value pairs with percent-encoded values")
            }
            headers.append(Header(name: String(name), value: value))
        }
        return headers
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = utf8.popFirst(), let low = utf8.popFirst(),
                  let decoded = [UInt8](hexString: String(decoding: [high, low], as: UTF8.self))
            else { return nil }
            bytes += decoded
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
