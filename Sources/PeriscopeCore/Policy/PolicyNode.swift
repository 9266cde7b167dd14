/// A node of a policy document together with the field path that leads to it, with typed
/// readers that turn every mismatch into a `PolicyError` naming that path.
struct PolicyNode {
    let node: DocumentNode
    let path: String

    init(_ node: DocumentNode, path: String) {
        self.node = node
        self.path = path
    }

    var isNull: Bool { node.isNull }

    var line: Int? { node.line }
    var column: Int? { node.column }

    /// The value as a person wrote it, for error messages.
    var rendered: String {
        switch node.content {
        case .null: return "null"
        case .scalar(let text, let quoted):
            if !quoted, text.isEmpty { return "null" }
            return quoted ? Self.quoted(text) : Self.shortened(text)
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .unsupported(let what): return what
        }
    }

    func error(_ code: PolicyError.Code = .invalidValue, allowed: String?, message: String? = nil) -> PolicyError {
        PolicyError(
            code: code, field: path, value: rendered, allowed: allowed, message: message,
            line: line, column: column
        )
    }

    /// The entries of a mapping whose keys must all be in `known`; in document order.
    func mapping(knownKeys known: [String], allowed: String = "a mapping") throws(PolicyError) -> [(String, PolicyNode)] {
        guard case .mapping(let mapping) = node.content else { throw error(allowed: allowed) }
        var entries: [(String, PolicyNode)] = []
        for entry in mapping {
            guard case .scalar(let key, _) = entry.key.content else {
                throw PolicyError(
                    code: .invalidValue, field: path, value: PolicyNode(entry.key, path: path).rendered,
                    allowed: "field names that are plain strings", line: entry.key.line,
                    column: entry.key.column
                )
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            guard known.contains(key) else {
                throw PolicyError(
                    code: .unknownField, field: childPath, allowed: known.joined(separator: ", "),
                    line: entry.key.line, column: entry.key.column
                )
            }
            entries.append((key, PolicyNode(entry.value, path: childPath)))
        }
        return entries
    }

    /// The items of a list.
    func sequence(allowed: String) throws(PolicyError) -> [PolicyNode] {
        guard case .sequence(let sequence) = node.content else { throw error(allowed: allowed) }
        return sequence.enumerated().map { PolicyNode($0.element, path: "\(path)[\($0.offset)]") }
    }

    /// The text of a non-null scalar; numbers and booleans count as their text.
    func text(allowed: String) throws(PolicyError) -> String {
        guard case .scalar(let text, _) = node.content else { throw error(allowed: allowed) }
        return text
    }

    /// A plain decimal integer within `range`. Quoted numbers, floats, hex and
    /// out-of-range values are rejected with `allowed` as the explanation.
    func integer(in range: ClosedRange<Int>, allowed: String) throws(PolicyError) -> Int {
        guard case .scalar(let text, quoted: false) = node.content, let value = Self.decimal(text), range.contains(value)
        else { throw error(allowed: allowed) }
        return value
    }

    /// `true` or `false` (YAML 1.1 spellings such as `yes` included), unquoted.
    func bool() throws(PolicyError) -> Bool {
        guard case .scalar(let text, quoted: false) = node.content, let value = Self.yamlBool(text)
        else { throw error(allowed: "true or false") }
        return value
    }

    /// YAML 1.1's booleans, as Kubernetes' YAML reads them.
    static func yamlBool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": false
        default: nil
        }
    }

    /// Parses `[+-]?[0-9]+`; nil for anything else, including values that overflow `Int`.
    static func decimal(_ text: some StringProtocol) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var value = 0
        for byte in digits.utf8 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(byte - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    static func shortened(_ text: String) -> String {
        let limit = 80
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "…"
    }

    static func quoted(_ text: String) -> String {
        var escaped = ""
        for c in shortened(text) {
            switch c {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(c)
            }
        }
        return "\"\(escaped)\""
    }
}
