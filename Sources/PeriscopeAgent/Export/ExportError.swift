/// Why export could not start or a listener could not open.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// libcurl could not be set up.
        public static let transport = Code(rawValue: "transport")
        /// The metrics endpoint could not listen (address in use, bad address).
        public static let listen = Code(rawValue: "listen")

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
