import Foundation
import Yams

extension JSONValue {
    /// Parses one YAML document (YAML is a superset of JSON, so JSON text works too).
    public init(yaml text: String) throws {
        guard let node = try Yams.compose(yaml: text) else {
            self = .null
            return
        }
        self = JSONValue(node: node)
    }

    /// Parses every document of a multi-document YAML stream, skipping empty ones.
    public static func documents(yaml text: String) throws -> [JSONValue] {
        try Yams.compose_all(yaml: text).map { JSONValue(node: $0) }.filter { $0 != .null }
    }

    init(node: Node) {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal
                || scalar.style == .folded
            {
                self = .string(scalar.string)
                return
            }
            let resolved = Resolver.default.resolveTag(of: node).rawValue
            if resolved.hasSuffix(":null") { self = .null }
            else if resolved.hasSuffix(":bool"), let value = Bool.construct(from: scalar) { self = .bool(value) }
            else if resolved.hasSuffix(":int"), let value = Int.construct(from: scalar) { self = .int(Int64(value)) }
            else if resolved.hasSuffix(":float"), let value = Double.construct(from: scalar) { self = .double(value) }
            else { self = .string(scalar.string) }
        case .sequence(let sequence):
            self = .array(sequence.map { JSONValue(node: $0) })
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                members[key.string ?? ""] = JSONValue(node: value)
            }
            self = .object(members)
        case .alias(let alias):
            _ = alias
            self = .null
        }
    }
}
