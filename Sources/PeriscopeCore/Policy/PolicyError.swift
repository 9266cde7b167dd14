/// Why a policy was rejected: which field, what it held, what would have been accepted.
///
/// `description` is written for the person editing the file, for example
/// `spec.ports[1].endPort: 70000 is not allowed; expected an integer from 1 to 65535, not below port (8000)`.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier for the kind of problem; match on it, not on the text.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The text is not valid YAML (or, where one policy is expected, holds more than one document).
        public static let invalidYAML = Code(rawValue: "invalidYAML")
        /// A field holds a value of the wrong type or outside its allowed range.
        public static let invalidValue = Code(rawValue: "invalidValue")
        /// A key the policy does not define, usually a typo.
        public static let unknownField = Code(rawValue: "unknownField")
        /// A field that is required in its context is absent.
        public static let missingField = Code(rawValue: "missingField")
        /// `podSelector` or `containers` in a standalone policy file.
        public static let clusterOnlyField = Code(rawValue: "clusterOnlyField")
        /// `apiVersion` or `kind` name a different resource.
        public static let unsupportedResource = Code(rawValue: "unsupportedResource")

        public var description: String { rawValue }
    }

    public var code: Code
    /// Path of the offending field, e.g. `spec.ports[1].endPort`; empty for the document itself.
    public var field: String
    /// The offending value as written, shortened when long; nil when there is none.
    public var value: String?
    /// What the field accepts, e.g. `an integer from 1 to 65535`.
    public var allowed: String?
    /// Free text for problems that are not about one value (YAML syntax errors).
    public var message: String?
    /// 1-based position in the YAML text, when known.
    public var line: Int?
    public var column: Int?
    /// 1-based number of the YAML document in a file of several (`---`-separated); nil when
    /// the text holds one.
    public var document: Int?

    public init(
        code: Code, field: String, value: String? = nil, allowed: String? = nil,
        message: String? = nil, line: Int? = nil, column: Int? = nil
    ) {
        self.code = code
        self.field = field
        self.value = value
        self.allowed = allowed
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let document else { return summary }
        return "document \(document) of the file: " + summary
    }

    private var summary: String {
        let subject = field.isEmpty ? "policy" : field
        switch code {
        case .invalidYAML:
            let position = line.map { l in "line \(l)" + (column.map { ", column \($0)" } ?? "") + ": " } ?? ""
            return "\(position)not valid YAML: \(message ?? "unreadable document")"
        case .unknownField:
            let expected = allowed.map { "; expected one of \($0)" } ?? ""
            return "\(subject): unknown field\(expected)"
        case .missingField:
            let expected = allowed.map { "; expected \($0)" } ?? ""
            return "\(subject): required but missing\(expected)"
        default:
            var text = subject + ": "
            if let value {
                text += "\(value) is not allowed"
            } else {
                text += message ?? "not allowed"
            }
            if let allowed { text += "; expected \(allowed)" }
            if value != nil, let message { text += " (\(message))" }
            return text
        }
    }
}
