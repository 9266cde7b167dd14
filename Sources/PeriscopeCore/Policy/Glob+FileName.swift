extension Glob {
    /// The file name every executable this pattern matches has, when the pattern fixes it:
    /// its part after the last `/` (all of it without `/`) is literal — `psql`, `*/psql`,
    /// `/usr/lib/postgresql/*/bin/postgres`. Nil when that part has a wildcard or is empty
    /// (`*envoy*`, `/opt/*`). The kernel selects processes that exec a file of this name
    /// (`KernelFilter.executableNames`); for a pattern with more than `*/` before the name
    /// that is provisional, and the whole pattern decides.
    public var fileName: String? {
        var name: [Unicode.Scalar] = []
        for token in tokens.reversed() {
            guard case .literal(let scalar) = token else { return nil }
            if scalar == "/" { break }
            name.append(scalar)
        }
        guard !name.isEmpty else { return nil }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: name.reversed())
        return String(text)
    }
}
