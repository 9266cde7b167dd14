/// The controller cannot start or run. `code` is stable.
public struct ControllerError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A flag or environment variable holds a value that cannot be used; fix it and restart.
        public static let invalidConfiguration = Code(rawValue: "controller.invalid_configuration")
        /// The health and metrics port cannot be opened (in use? not an address of this host?).
        public static let listen = Code(rawValue: "controller.listen")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        "\(code): \(message)" + (cause.map { " (cause: \($0))" } ?? "")
    }
}
