/// The path and query of a request target in any of its forms (RFC 9112 §3.2):
/// `/p?q`, `http://host/p?q`, `host:443` (CONNECT) or `*` (OPTIONS).
public struct HTTP1RequestTarget: Sendable, Equatable {
    /// `/p` for origin and absolute forms; the target itself for authority and asterisk forms.
    public var path: String
    /// What follows `?`, without the fragment; nil when there is no `?`.
    public var query: String?

    public init(_ target: String) {
        var target = target
        (path, query) = target.withUTF8 { bytes in
            let parts = Self.parts(of: bytes)
            let pathPart = bytes[parts.path]
            return (
                pathPart.isEmpty ? "/" : String(decoding: pathPart, as: UTF8.self),
                parts.query.map { String(decoding: bytes[$0], as: UTF8.self) }
            )
        }
    }

    /// The path, followed by `?query` when `keepQuery` is set and there is a query.
    public func path(keepingQuery keepQuery: Bool) -> String {
        guard keepQuery, let query else { return path }
        return path + "?" + query
    }

    /// Where the path (possibly empty: it reads `/`) and the query lie in a target's bytes.
    static func parts(of target: UnsafeBufferPointer<UInt8>) -> (path: Range<Int>, query: Range<Int>?) {
        let slash = UInt8(ascii: "/"), question = UInt8(ascii: "?"), hash = UInt8(ascii: "#")
        let all = 0..<target.count
        // The usual origin form without query or fragment is its own path.
        if target.first == slash, !target.contains(where: { $0 == question || $0 == hash }) { return (all, nil) }
        var pathStart = 0
        if target.first != slash {
            // Absolute form: skip `scheme://authority`; otherwise authority or asterisk form.
            guard let colon = target.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                  target[colon...].starts(with: "://".utf8),
                  target[..<colon].allSatisfy({ HTTP1Syntax.isSchemeCharacter($0) })
            else { return (all, nil) }
            pathStart = target[(colon + 3)...].firstIndex { $0 == slash || $0 == question || $0 == hash } ?? target.count
        }
        let end = target[pathStart...].firstIndex(of: hash) ?? target.count
        let questionMark = target[pathStart..<end].firstIndex(of: question)
        return (pathStart..<(questionMark ?? end), questionMark.map { ($0 + 1)..<end })
    }

    /// Where `path(keepingQuery:)` lies in a target's bytes: one range, after a `/` that is
    /// not among them when `needsSlash`.
    static func pathField(of target: UnsafeBufferPointer<UInt8>, keepingQuery keepQuery: Bool) -> (range: Range<Int>, needsSlash: Bool) {
        let (path, query) = parts(of: target)
        guard keepQuery, let query else { return (path, path.isEmpty) }
        // `?` sits right before the query, right after the path.
        return path.isEmpty ? ((query.lowerBound - 1)..<query.upperBound, true) : (path.lowerBound..<query.upperBound, false)
    }
}
