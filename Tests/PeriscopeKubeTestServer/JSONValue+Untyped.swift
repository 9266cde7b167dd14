import PeriscopeKube

extension JSONValue {
    /// The value as `JSONSerialization` would give it (dictionaries, arrays, `String`, `Int`,
    /// `Double`, `Bool`, `NSNull`-free: null is `Optional<Any>.none` boxed), for tests that walk
    /// manifests loosely.
    public var untyped: Any {
        switch self {
        case .null: return Optional<Any>.none as Any
        case .bool(let value): return value
        case .int(let value): return Int(value)
        case .double(let value): return value
        case .string(let value): return value
        case .array(let items): return items.map(\.untyped)
        case .object(let members): return members.mapValues(\.untyped)
        }
    }

    /// Every non-empty document of a YAML stream, untyped.
    public static func untypedDocuments(yaml text: String) throws -> [Any] {
        try documents(yaml: text).map(\.untyped)
    }
}
