/// The OpenTelemetry resource a span or metric is reported under: for captured
/// traffic, the process that served or sent it; for health metrics, the agent.
public struct TelemetryResource: Sendable, Hashable {
    /// `telemetry.sdk.name`.
    public static let sdkName = "periscope"
    /// `telemetry.sdk.version`.
    public static let sdkVersion = PeriscopeVersion.current
    /// The longest `service.name` taken from a process's environment.
    public static let maximumServiceNameLength = 256

    public var attributes: [Attribute]

    public init(attributes: [Attribute]) {
        self.attributes = attributes
    }

    /// `service.name`, when present.
    public var serviceName: String? {
        for attribute in attributes where attribute.key == "service.name" {
            if case .string(let name) = attribute.value { return name }
        }
        return nil
    }

    /// The resource of a traced process.
    ///
    /// `service.name` is the process's own `OTEL_SERVICE_NAME` when it has a usable one,
    /// else a `service.name` among `extra` (the policy's `resourceAttributes`), else the
    /// executable's file name. Other keys of `extra` are added unless already present.
    public static func process(
        pid: Int32, executable: String?, environmentServiceName: String?, hostName: String,
        extra: [String: String] = [:]
    ) -> TelemetryResource {
        let executableName = executable.map(Self.fileName) ?? ""
        let service = environmentServiceName.flatMap(Self.usableServiceName)
            ?? extra["service.name"].flatMap(Self.usableServiceName)
            ?? (executableName.isEmpty ? "unknown_service" : executableName)
        var attributes = [
            Attribute("service.name", .string(service)),
            Attribute("host.name", .string(hostName)),
            Attribute("process.pid", .int(Int(pid))),
        ]
        if let executable, !executable.isEmpty {
            attributes.append(Attribute("process.executable.name", .string(executableName)))
            attributes.append(Attribute("process.executable.path", .string(executable)))
        }
        attributes += sdkAttributes
        return TelemetryResource(attributes: Self.adding(extra, to: attributes))
    }

    /// The resource of the agent itself, for its health metrics.
    public static func agent(pid: Int32, hostName: String, extra: [String: String] = [:]) -> TelemetryResource {
        var attributes = [
            Attribute("service.name", .string("periscope-agent")),
            Attribute("host.name", .string(hostName)),
            Attribute("process.pid", .int(Int(pid))),
            Attribute("process.executable.name", .string("periscope-agent")),
        ]
        attributes += sdkAttributes
        return TelemetryResource(attributes: Self.adding(extra, to: attributes))
    }

    static let sdkAttributes = [
        Attribute("telemetry.sdk.name", .string(sdkName)),
        Attribute("telemetry.sdk.language", .string("swift")),
        Attribute("telemetry.sdk.version", .string(sdkVersion)),
    ]

    static func adding(_ extra: [String: String], to attributes: [Attribute]) -> [Attribute] {
        var attributes = attributes
        let present = Set(attributes.map(\.key))
        for key in extra.keys.sorted() where !present.contains(key) {
            attributes.append(Attribute(key, .string(extra[key]!)))
        }
        return attributes
    }

    /// A service name fit to report: non-empty after trimming, no control characters,
    /// at most `maximumServiceNameLength` bytes.
    static func usableServiceName(_ name: String) -> String? {
        let trimmed = String(name.trimmingASCIIWhitespace())
        guard !trimmed.isEmpty, trimmed.utf8.count <= maximumServiceNameLength,
              !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else { return nil }
        return trimmed
    }

    static func fileName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension ProtobufWriter {
    /// `Resource { repeated KeyValue attributes = 1 }` as field `field`.
    mutating func resource(_ field: Int, _ resource: TelemetryResource) {
        message(field, expectedSize: 256) { $0.attributes(1, resource.attributes) }
    }

    /// `InstrumentationScope { name = 1; version = 2 }` as field `field`.
    mutating func scope(_ field: Int) {
        message(field) { scope in
            scope.string(1, TelemetryResource.sdkName)
            scope.string(2, TelemetryResource.sdkVersion)
        }
    }
}
