/// The path and query of a request target in any of its forms (RFC 9112 §3.2):
/// `/p?q`, `http://host/p?q`, `host:443` (CONNECT) or `*` (OPTIONS).
public struct HTTP1RequestTarget: Sendable, Equatable {
    /// `/p` for origin and absolute forms; the target itself for authority and asterisk forms.
    public var path: String
    /// What follows `?`, without the fragment; nil when there is no `?`.
    public var query: String?

    public init(_ target: String) {
        var rest = Substring(target)
        if !rest.hasPrefix("/"), let schemeEnd = rest.firstRange(of: "://"),
           rest[..<schemeEnd.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) {
            // Absolute form: drop scheme and authority; an empty path is "/".
            let authorityAndPath = rest[schemeEnd.upperBound...]
            let pathStart = authorityAndPath.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" }
            rest = pathStart.map { authorityAndPath[$0...] } ?? ""
            if !rest.hasPrefix("/") { rest = "/" + rest }
        } else if !rest.hasPrefix("/") {
            self.path = target
            self.query = nil
            return
        }
        let withoutFragment = rest.prefix { $0 != "#" }
        if let questionMark = withoutFragment.firstIndex(of: "?") {
            path = String(withoutFragment[..<questionMark])
            query = String(withoutFragment[withoutFragment.index(after: questionMark)...])
        } else {
            path = String(withoutFragment)
            query = nil
        }
    }

    /// The path, followed by `?query` when `keepQuery` is set and there is a query.
    public func path(keepingQuery keepQuery: Bool) -> String {
        guard keepQuery, let query else { return path }
        return path + "?" + query
    }
}
