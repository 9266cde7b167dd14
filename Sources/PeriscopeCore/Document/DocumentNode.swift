/// A parsed YAML or JSON document as a tree of values: what a policy is decoded from, whether it
/// came from a policy file, an InstrumentationPolicy the API server sent or a NodeInstrumentation.
/// Once text is parsed into this tree it is never turned back into text to be read again.
///
/// Scalars keep their text and whether they were quoted, so that one decoder gives YAML and JSON
/// the same meaning: `8080` (plain, or a JSON number) is an integer, `"8080"` (quoted, or a JSON
/// string) is text. Where each value was written (line and column) is kept when the text had it.
public struct DocumentNode: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        /// `null`, `~` or nothing.
        case null
        /// A scalar as written: a JSON number or boolean is a plain scalar, a JSON string a quoted one.
        case scalar(String, quoted: Bool)
        case sequence([DocumentNode])
        /// Entries in document order (sorted by key for JSON, whose objects have none).
        case mapping([Entry])
        /// Something a policy never holds (a YAML alias left unresolved, a value nested deeper or a
        /// document larger than any policy), described for error messages.
        case unsupported(String)
    }

    public struct Entry: Sendable, Hashable {
        public var key: DocumentNode
        public var value: DocumentNode

        public init(key: DocumentNode, value: DocumentNode) {
            self.key = key
            self.value = value
        }

        /// An entry named `name` (a plain scalar key, as parsed documents have them).
        public init(_ name: String, _ value: DocumentNode) {
            self.init(key: DocumentNode(.scalar(name, quoted: false)), value: value)
        }
    }

    public var content: Content
    /// 1-based position in the text, when known.
    public var line: Int?
    public var column: Int?

    public init(_ content: Content, line: Int? = nil, column: Int? = nil) {
        self.content = content
        self.line = line
        self.column = column
    }

    /// An empty mapping: `{}`.
    public static let emptyMapping = DocumentNode(.mapping([]))

    public var isNull: Bool { content == .null }

    /// The text of a scalar key or value; nil for anything else.
    public var scalarText: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// The value of the first entry whose key is `key`, for a mapping; nil otherwise.
    public subscript(key: String) -> DocumentNode? {
        guard case .mapping(let entries) = content else { return nil }
        return entries.first { $0.key.scalarText == key }?.value
    }

    /// A mapping without the entries named in `keys`; any other value as it is.
    public func removing(keys: Set<String>) -> DocumentNode {
        guard case .mapping(let entries) = content else { return self }
        var copy = self
        copy.content = .mapping(entries.filter { !keys.contains($0.key.scalarText ?? "") })
        return copy
    }

    /// The same tree without positions: two documents with the same content compare equal
    /// however they were written.
    public var withoutPositions: DocumentNode {
        var copy = DocumentNode(content)
        switch content {
        case .sequence(let items): copy.content = .sequence(items.map(\.withoutPositions))
        case .mapping(let entries):
            copy.content = .mapping(entries.map { Entry(key: $0.key.withoutPositions, value: $0.value.withoutPositions) })
        default: break
        }
        return copy
    }

    /// Limits on trees built from text: no policy comes near them, and they bound what hostile
    /// text (aliases that multiply, nesting thousands deep) can cost.
    public enum Limits {
        /// Values in one document.
        public static let nodes = 200_000
        /// Levels of nesting.
        public static let depth = 64
    }
}

extension DocumentNode: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    /// A quoted scalar, as a JSON string.
    public init(stringLiteral value: String) { self.init(.scalar(value, quoted: true)) }
    /// A plain scalar, as a JSON number.
    public init(integerLiteral value: Int) { self.init(.scalar(String(value), quoted: false)) }
    public init(floatLiteral value: Double) { self.init(.scalar(String(value), quoted: false)) }
    public init(booleanLiteral value: Bool) { self.init(.scalar(value ? "true" : "false", quoted: false)) }
    public init(arrayLiteral elements: DocumentNode...) { self.init(.sequence(elements)) }
    /// Entries in the order written; keys are names, plain scalars.
    public init(dictionaryLiteral elements: (String, DocumentNode)...) {
        self.init(.mapping(elements.map { Entry(key: DocumentNode(.scalar($0.0, quoted: false)), value: $0.1) }))
    }
    public init(nilLiteral: ()) { self.init(.null) }
}
