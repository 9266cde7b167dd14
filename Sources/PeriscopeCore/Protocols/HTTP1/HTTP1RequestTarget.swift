/// The path and query of a request target in any of its forms (RFC 9112 §3.2):
/// `/p?q`, `http://host/p?q`, `host:443` (CONNECT) or `*` (OPTIONS).
public struct HTTP1RequestTarget: Sendable, Equatable {
    /// `/p` for origin and absolute forms; the target itself for authority and asterisk forms.
    public var path: String
    /// What follows `?`, without the fragment; nil when there is no `?`.
    public var query: String?

    public init(_ target: String) {
        let utf8 = target.utf8
        // The usual origin form without query or fragment is its own path.
        if utf8.first == UInt8(ascii: "/"), !utf8.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            path = target
            query = nil
            return
        }
        var pathStart = utf8.startIndex
        if utf8.first != UInt8(ascii: "/") {
            // Absolute form: skip `scheme://authority`; otherwise authority or asterisk form.
            guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), colon > utf8.startIndex,
                  utf8[colon...].starts(with: "://".utf8),
                  utf8[..<colon].allSatisfy({ HTTP1Syntax.isSchemeCharacter($0) })
            else {
                path = target
                query = nil
                return
            }
            let authority = utf8.index(colon, offsetBy: 3)
            pathStart = utf8[authority...].firstIndex {
                $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
            } ?? utf8.endIndex
        }
        let end = utf8[pathStart...].firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
        let questionMark = utf8[pathStart..<end].firstIndex(of: UInt8(ascii: "?"))
        let pathPart = target[pathStart..<(questionMark ?? end)]
        path = pathPart.isEmpty ? "/" : String(pathPart)
        query = questionMark.map { String(target[utf8.index(after: $0)..<end]) }
    }

    /// The path, followed by `?query` when `keepQuery` is set and there is a query.
    public func path(keepingQuery keepQuery: Bool) -> String {
        guard keepQuery, let query else { return path }
        return path + "?" + query
    }
}
