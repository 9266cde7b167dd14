/// Why a schema-valid policy cannot be put in force: the `Accepted=False` condition's reason and
/// message.
public struct PolicyRejection: Error, Sendable, Hashable {
    /// Stable CamelCase reasons.
    public struct Reason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A field the policy model rejects (a range whose end is below its start, a route pattern, an endpoint…).
        public static let invalidSpec = Reason(rawValue: "InvalidSpec")
        /// A glob in `executables` or `exclude.executables` that does not compile.
        public static let invalidGlob = Reason(rawValue: "InvalidGlob")
        /// The same port or range listed twice.
        public static let duplicatePorts = Reason(rawValue: "DuplicatePorts")
        /// Two entries of `ports` share ports.
        public static let overlappingPorts = Reason(rawValue: "OverlappingPorts")
        /// `exclude` removes what the policy asks for, or everything.
        public static let conflictingExcludes = Reason(rawValue: "ConflictingExcludes")
        /// A `matchExpressions` entry that no pod could be matched against.
        public static let invalidSelector = Reason(rawValue: "InvalidSelector")
        /// A container name listed twice in `containers`.
        public static let duplicateContainers = Reason(rawValue: "DuplicateContainers")
    }

    public var reason: Reason
    /// What is wrong and what to do about it.
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}
