/// Finds the route of a request path among configured patterns; the first pattern
/// that matches, in configured order, wins.
public struct RouteMatcher: Sendable, Equatable {
    public let patterns: [RoutePattern]

    public init(_ patterns: [RoutePattern]) {
        self.patterns = patterns
    }

    /// The first pattern matching `path`, as written (`/users/{id}`); nil when none does.
    public func route(for path: String) -> String? {
        patterns.first { $0.matches(path: path) }?.pattern
    }

    /// Whether any pattern matches `path`. A literal pattern such as `/healthz`
    /// matches exactly that path.
    public func matches(_ path: String) -> Bool {
        patterns.contains { $0.matches(path: path) }
    }
}
