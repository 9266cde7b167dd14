/// A shell-style pattern on executable paths: `*` (any run of characters, `/` included),
/// `?` (one character), `[abc]`, `[a-z]`, `[!x]` and `\` to take the next character literally.
///
/// A pattern containing `/` is matched against the whole executable path
/// (`/usr/sbin/*`); one without `/` against the basename, so `nginx` and `*nginx*`
/// both match `/usr/sbin/nginx`.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    /// True when the pattern contains `/` and is matched against the full path.
    public let matchesFullPath: Bool
    let tokens: [Token]

    enum Token: Sendable, Hashable {
        case literal(Unicode.Scalar)
        case anyOne
        case anyRun
        case set(negated: Bool, ranges: [ClosedRange<Unicode.Scalar>])
    }

    /// Compiles `pattern`. Throws `.invalidValue` for an empty pattern, an unterminated
    /// `[`, a reversed range such as `[z-a]` or a trailing unescaped `\`. The error's
    /// `field` is empty; callers put the field path in.
    public init(_ pattern: String) throws(PolicyError) {
        func invalid(_ why: String) -> PolicyError {
            PolicyError(
                code: .invalidValue, field: "", value: PolicyNode.quoted(pattern),
                allowed: "a glob using *, ?, [...] and \\ escapes", message: why
            )
        }
        guard !pattern.isEmpty else { throw invalid("the pattern is empty") }
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case "*":
                if tokens.last != .anyRun { tokens.append(.anyRun) }
                i += 1
            case "?":
                tokens.append(.anyOne)
                i += 1
            case "\\":
                guard i + 1 < scalars.count else { throw invalid("it ends with an unescaped \\") }
                tokens.append(.literal(scalars[i + 1]))
                i += 2
            case "[":
                var j = i + 1
                var negated = false
                if j < scalars.count, scalars[j] == "!" || scalars[j] == "^" {
                    negated = true
                    j += 1
                }
                var ranges: [ClosedRange<Unicode.Scalar>] = []
                var first = true
                var closed = false
                while j < scalars.count {
                    var low = scalars[j]
                    if low == "]", !first {
                        closed = true
                        break
                    }
                    first = false
                    if low == "\\" {
                        guard j + 1 < scalars.count else { break }
                        j += 1
                        low = scalars[j]
                    }
                    j += 1
                    var high = low
                    if j + 1 < scalars.count, scalars[j] == "-", scalars[j + 1] != "]" {
                        high = scalars[j + 1]
                        j += 2
                        if high == "\\" {
                            guard j < scalars.count else { break }
                            high = scalars[j]
                            j += 1
                        }
                        guard low <= high else {
                            throw invalid("the range \(low)-\(high) is reversed")
                        }
                    }
                    ranges.append(low...high)
                }
                guard closed else { throw invalid("a [ is not closed by ]") }
                tokens.append(.set(negated: negated, ranges: ranges))
                i = j + 1
            default:
                tokens.append(.literal(c))
                i += 1
            }
        }
        self.pattern = pattern
        self.tokens = tokens
        self.matchesFullPath = pattern.unicodeScalars.contains("/")
    }

    /// Whether the executable at `path` matches: the whole path for patterns with `/`,
    /// otherwise its last component.
    public func matches(executable path: String) -> Bool {
        if matchesFullPath { return matches(path) }
        let basename = path.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).last
        return matches(String(String.UnicodeScalarView(basename ?? path.unicodeScalars[...])))
    }

    /// Whether `text` as a whole matches the pattern, with no special meaning for `/`.
    public func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var t = 0, s = 0
        var starToken = -1, starInput = 0
        while s < input.count {
            if t < tokens.count, tokens[t] == .anyRun {
                starToken = t
                starInput = s
                t += 1
            } else if t < tokens.count, Self.token(tokens[t], accepts: input[s]) {
                t += 1
                s += 1
            } else if starToken >= 0 {
                t = starToken + 1
                starInput += 1
                s = starInput
            } else {
                return false
            }
        }
        while t < tokens.count, tokens[t] == .anyRun { t += 1 }
        return t == tokens.count
    }

    private static func token(_ token: Token, accepts c: Unicode.Scalar) -> Bool {
        switch token {
        case .literal(let l): return l == c
        case .anyOne: return true
        case .anyRun: return false
        case .set(let negated, let ranges): return ranges.contains { $0.contains(c) } != negated
        }
    }

    public var description: String { pattern }

    public static func == (lhs: Glob, rhs: Glob) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
}
