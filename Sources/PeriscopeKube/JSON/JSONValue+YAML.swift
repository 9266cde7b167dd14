import PeriscopeYAML

extension JSONValue {
    /// Parses one YAML document (YAML is a superset of JSON, so JSON text works too).
    public init(yaml text: String) throws {
        guard let node = try YAML.document(text) else {
            self = .null
            return
        }
        var budget = Self.maximumValues
        self = try JSONValue(node: node, budget: &budget)
    }

    /// How many values one document may hold once its aliases are followed: what a
    /// Kubernetes object never approaches, and a bound on what text written to explode costs.
    public static let maximumValues = 1_000_000

    /// Parses every document of a multi-document YAML stream, skipping empty ones.
    public static func documents(yaml text: String) throws -> [JSONValue] {
        try YAML.documents(text).map { node in
            var budget = maximumValues
            return try JSONValue(node: node, budget: &budget)
        }.filter { $0 != .null }
    }

    /// Scalars by YAML 1.1's core schema (`YAMLNode.Scalar.resolved`); mapping keys as their
    /// text. Throws once more than `budget` values were built.
    init(node: YAMLNode, budget: inout Int) throws(YAMLError) {
        guard budget > 0 else {
            throw YAMLError("more than \(Self.maximumValues) values once aliases are followed", line: node.line, column: node.column)
        }
        budget -= 1
        switch node.kind {
        case .scalar(let scalar):
            switch scalar.resolved {
            case .null: self = .null
            case .bool(let value): self = .bool(value)
            case .int(let value): self = .int(value)
            case .double(let value): self = .double(value)
            case .string(let value): self = .string(value)
            }
        case .sequence(let sequence):
            var items: [JSONValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try JSONValue(node: item, budget: &budget)) }
            self = .array(items)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for pair in mapping {
                guard case .scalar(let key) = pair.key.kind else { continue }
                members[key.text] = try JSONValue(node: pair.value, budget: &budget)
            }
            self = .object(members)
        }
    }
}
