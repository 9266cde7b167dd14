/// A rejected export setting: which one, what it held, what it accepts.
///
/// `description` names the setting as the operator wrote it, for example
/// `OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not allowed; expected an http:// or https:// URL…`.
public struct ExportConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// An endpoint that is not an http:// or https:// URL with a host.
        public static let invalidEndpoint = Code(rawValue: "invalidEndpoint")
        /// A number, header list or name that does not parse or is out of range.
        public static let invalidValue = Code(rawValue: "invalidValue")

        public var description: String { rawValue }
    }

    public var code: Code
    /// The environment variable, flag or policy field, e.g. `OTEL_EXPORTER_OTLP_HEADERS`.
    public var setting: String
    public var value: String
    public var allowed: String

    public init(code: Code, setting: String, value: String, allowed: String) {
        self.code = code
        self.setting = setting
        self.value = value
        self.allowed = allowed
    }

    public var description: String {
        let shown = value.count > 120 ? String(value.prefix(120)) + "…" : value
        return "\(setting): \"\(shown)\" is not allowed; expected \(allowed)"
    }
}
