import Yams

/// A YAML node together with the field path that leads to it, with typed readers that
/// turn every mismatch into a `PolicyError` naming that path.
struct PolicyNode {
    let node: Node
    let path: String

    init(_ node: Node, path: String) {
        self.node = node
        self.path = path
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && node.tag == Tag(.null)
    }

    var line: Int? { node.mark?.line }
    var column: Int? { node.mark?.column }

    /// The value as a person wrote it, for error messages.
    var rendered: String {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, scalar.string.isEmpty { return "null" }
            if scalar.style == .plain { return Self.shortened(scalar.string) }
            return Self.quoted(scalar.string)
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
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
        guard case .mapping(let mapping) = node else { throw error(allowed: allowed) }
        var entries: [(String, PolicyNode)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                throw PolicyError(
                    code: .invalidValue, field: path, value: PolicyNode(keyNode, path: path).rendered,
                    allowed: "field names that are plain strings", line: keyNode.mark?.line,
                    column: keyNode.mark?.column
                )
            }
            let childPath = path.isEmpty ? key.string : "\(path).\(key.string)"
            guard known.contains(key.string) else {
                throw PolicyError(
                    code: .unknownField, field: childPath, allowed: known.joined(separator: ", "),
                    line: keyNode.mark?.line, column: keyNode.mark?.column
                )
            }
            entries.append((key.string, PolicyNode(value, path: childPath)))
        }
        return entries
    }

    /// The items of a list.
    func sequence(allowed: String) throws(PolicyError) -> [PolicyNode] {
        guard case .sequence(let sequence) = node else { throw error(allowed: allowed) }
        return sequence.enumerated().map { PolicyNode($0.element, path: "\(path)[\($0.offset)]") }
    }

    /// The text of a non-null scalar; numbers and booleans count as their text.
    func text(allowed: String) throws(PolicyError) -> String {
        guard case .scalar(let scalar) = node, !isNull else { throw error(allowed: allowed) }
        return scalar.string
    }

    /// A plain decimal integer within `range`. Quoted numbers, floats, hex and
    /// out-of-range values are rejected with `allowed` as the explanation.
    func integer(in range: ClosedRange<Int>, allowed: String) throws(PolicyError) -> Int {
        guard case .scalar(let scalar) = node, scalar.style == .plain,
              let value = Self.decimal(scalar.string), range.contains(value)
        else { throw error(allowed: allowed) }
        return value
    }

    /// `true` or `false` (YAML 1.1 spellings such as `yes` included), unquoted.
    func bool() throws(PolicyError) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain,
              let value = Bool.construct(from: scalar)
        else { throw error(allowed: "true or false") }
        return value
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
