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
