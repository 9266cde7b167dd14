import PeriscopeCore
import PeriscopeKube

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, all of which must hold.
/// An empty selector matches every pod.
public struct PodSelector: Codable, Sendable, Hashable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [Expression]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [Expression]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// `{key, operator: In|NotIn|Exists|DoesNotExist, values}`.
    public struct Expression: Codable, Sendable, Hashable {
        public var key: String
        public var `operator`: String
        public var values: [String]?

        public init(key: String, operator: String, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    /// How many requirements the selector states; more is more specific.
    public var requirementCount: Int { (matchLabels?.count ?? 0) + (matchExpressions?.count ?? 0) }

    /// The selector as requirements, or `nil` when an expression is malformed (an unknown
    /// operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with values).
    public var labelSelector: LabelSelector? {
        var requirements = (matchLabels ?? [:]).sorted { $0.key < $1.key }.map { LabelSelector.Requirement.equals($0.key, $0.value) }
        for expression in matchExpressions ?? [] {
            let values = expression.values ?? []
            switch expression.operator {
            case "In" where !values.isEmpty: requirements.append(.in(expression.key, values))
            case "NotIn" where !values.isEmpty: requirements.append(.notIn(expression.key, values))
            case "Exists" where values.isEmpty: requirements.append(.exists(expression.key))
            case "DoesNotExist" where values.isEmpty: requirements.append(.doesNotExist(expression.key))
            default: return nil
            }
        }
        return LabelSelector(requirements)
    }
}

extension PodSelector {
    /// Why a selector in a spec cannot be read: a field path and what it should have been.
    public struct Malformed: Error, Sendable, Hashable, CustomStringConvertible {
        public var field: String
        public var expected: String
        public var description: String { "\(field): expected \(expected)" }
    }

    /// The selector a spec's `podSelector` holds. Null is the empty selector.
    public init(document: DocumentNode, path: String = "spec.podSelector") throws(Malformed) {
        self.init()
        if document.isNull { return }
        guard case .mapping(let entries) = document.content else { throw Malformed(field: path, expected: "a mapping") }
        for entry in entries {
            let key = entry.key.scalarText ?? ""
            switch key {
            case "matchLabels" where !entry.value.isNull:
                guard case .mapping(let labels) = entry.value.content else {
                    throw Malformed(field: "\(path).matchLabels", expected: "a mapping of label names to values")
                }
                var matchLabels: [String: String] = [:]
                for label in labels {
                    guard let name = label.key.scalarText, let value = label.value.scalarText else {
                        throw Malformed(field: "\(path).matchLabels", expected: "label names and values that are strings")
                    }
                    matchLabels[name] = value
                }
                self.matchLabels = matchLabels
            case "matchExpressions" where !entry.value.isNull:
                guard case .sequence(let items) = entry.value.content else {
                    throw Malformed(field: "\(path).matchExpressions", expected: "a list of {key, operator, values}")
                }
                var expressions: [Expression] = []
                for (index, item) in items.enumerated() {
                    let field = "\(path).matchExpressions[\(index)]"
                    guard let key = item["key"]?.scalarText, let op = item["operator"]?.scalarText else {
                        throw Malformed(field: field, expected: "{key, operator, values} with key and operator strings")
                    }
                    var values: [String]?
                    if let list = item["values"], !list.isNull {
                        guard case .sequence(let texts) = list.content, texts.allSatisfy({ $0.scalarText != nil }) else {
                            throw Malformed(field: "\(field).values", expected: "a list of strings")
                        }
                        values = texts.compactMap(\.scalarText)
                    }
                    expressions.append(Expression(key: key, operator: op, values: values))
                }
                matchExpressions = expressions
            case "matchLabels", "matchExpressions":
                continue
            default:
                throw Malformed(field: "\(path).\(key)", expected: "matchLabels or matchExpressions")
            }
        }
    }
}

extension PodSelector {
    /// The selector as a spec holds it.
    public var document: DocumentNode {
        var entries: [DocumentNode.Entry] = []
        if let matchLabels {
            let labels = matchLabels.sorted { $0.key < $1.key }.map { DocumentNode.Entry($0.key, DocumentNode(stringLiteral: $0.value)) }
            entries.append(.init("matchLabels", DocumentNode(.mapping(labels))))
        }
        if let matchExpressions {
            let expressions = matchExpressions.map { expression -> DocumentNode in
                var fields: [DocumentNode.Entry] = [
                    .init("key", DocumentNode(stringLiteral: expression.key)),
                    .init("operator", DocumentNode(stringLiteral: expression.operator)),
                ]
                if let values = expression.values {
                    fields.append(.init("values", DocumentNode(.sequence(values.map { DocumentNode(stringLiteral: $0) }))))
                }
                return DocumentNode(.mapping(fields))
            }
            entries.append(.init("matchExpressions", DocumentNode(.sequence(expressions))))
        }
        return DocumentNode(.mapping(entries))
    }
}
