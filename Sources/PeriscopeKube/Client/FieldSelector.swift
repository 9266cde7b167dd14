/// A field selector (`spec.nodeName=node-a,metadata.name!=x`): equality terms on dotted paths.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Term: Sendable, Hashable {
        public var field: String
        public var value: String
        public var negated: Bool

        public init(field: String, value: String, negated: Bool = false) {
            self.field = field
            self.value = value
            self.negated = negated
        }
    }

    public var terms: [Term]

    public init(_ terms: [Term]) {
        self.terms = terms
    }

    /// `spec.nodeName=<node>`: the pods scheduled on one node.
    public static func nodeName(_ node: String) -> FieldSelector {
        FieldSelector([Term(field: "spec.nodeName", value: node)])
    }

    public init(parsing text: String) throws {
        var terms: [Term] = []
        for part in text.split(separator: ",") {
            if let range = part.firstRange(of: "!=") {
                terms.append(Term(field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), negated: true))
            } else if let range = part.firstRange(of: "==") ?? part.firstRange(of: "=") {
                terms.append(Term(field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...])))
            } else {
                throw LabelSelector.ParseError(selector: text, message: "invalid field selector term \(part)")
            }
        }
        self.terms = terms
    }

    /// Matches against a field lookup (missing fields compare as the empty string, as the server does).
    public func matches(_ value: (String) -> String?) -> Bool {
        terms.allSatisfy { term in
            let actual = value(term.field) ?? ""
            return term.negated ? actual != term.value : actual == term.value
        }
    }

    public var description: String {
        terms.map { "\($0.field)\($0.negated ? "!=" : "=")\($0.value)" }.joined(separator: ",")
    }
}
