/// An HTTP route such as `/users/{id}`, `/static/*` or `/healthz`.
///
/// Segments are compared one by one: a literal segment must be equal, `{name}` matches
/// exactly one non-empty segment, and a final `*` segment matches whatever follows
/// (`/static/*` matches `/static`, `/static/` and `/static/css/site.css`).
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written; this is the value reported as `http.route`.
    public let pattern: String
    private let segments: [Segment]
    private let matchesRest: Bool

    enum Segment: Sendable, Hashable {
        case literal(Substring)
        case parameter
    }

    /// Compiles `pattern`. It must start with `/`; `{name}` must fill a whole segment
    /// with a non-empty name; `*` may only be the last segment. The error's `field` is
    /// empty; callers put the field path in.
    public init(_ pattern: String) throws(PolicyError) {
        func invalid(_ why: String) -> PolicyError {
            PolicyError(
                code: .invalidValue, field: "", value: PolicyNode.quoted(pattern),
                allowed: "a path starting with / whose segments are literal, {name} or a final *",
                message: why
            )
        }
        guard pattern.hasPrefix("/") else { throw invalid("it does not start with /") }
        var parts = pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var rest = false
        if parts.last == "*" {
            rest = true
            parts.removeLast()
        }
        var segments: [Segment] = []
        for part in parts {
            if part.hasPrefix("{") || part.hasSuffix("}") {
                let name = part.dropFirst().dropLast()
                guard part.count >= 2, part.hasPrefix("{"), part.hasSuffix("}"), !name.isEmpty,
                      !name.contains("{"), !name.contains("}")
                else { throw invalid("{name} must be a whole segment with a name") }
                segments.append(.parameter)
            } else if part.contains("{") || part.contains("}") {
                throw invalid("{name} must be a whole segment with a name")
            } else if part.contains("*") {
                throw invalid("* is only allowed as the last segment")
            } else {
                segments.append(.literal(part))
            }
        }
        self.pattern = pattern
        self.segments = segments
        self.matchesRest = rest
    }

    /// Whether `path` matches; anything from `?` on is ignored.
    public func matches(path: String) -> Bool {
        var path = Substring(path)
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        guard path.hasPrefix("/") else { return false }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if matchesRest {
            if parts.count < segments.count { return false }
            // "/static" has one part "static"; "/" (pattern "/*") has one empty part.
        } else if parts.count != segments.count {
            return false
        }
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let literal): if literal != part { return false }
            case .parameter: if part.isEmpty { return false }
            }
        }
        return true
    }

    public var description: String { pattern }

    public static func == (lhs: RoutePattern, rhs: RoutePattern) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
}
