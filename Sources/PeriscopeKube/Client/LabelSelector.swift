/// A label selector in the API's string form (`app=checkout,tier in (web,api),!canary`): parsed,
/// matched against labels and printed back.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, [String])
        case notIn(String, [String])
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// Every label equal: `matchLabels`.
    public init(matchLabels: [String: String]) {
        requirements = matchLabels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    public struct ParseError: Error, Sendable, Hashable {
        public var selector: String
        public var message: String
    }

    /// Parses the string form; throws on malformed input.
    public init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let term = term.trimmingWhitespace()
            if term.isEmpty { continue }
            if let range = term.firstRange(of: " notin ") ?? term.firstRange(of: " in ") {
                let key = term[..<range.lowerBound].trimmingWhitespace()
                let rest = term[range.upperBound...].trimmingWhitespace()
                guard rest.hasPrefix("("), rest.hasSuffix(")"), !key.isEmpty else {
                    throw ParseError(selector: text, message: "expected '(values)' after set operator in \(term)")
                }
                let values = rest.dropFirst().dropLast().split(separator: ",").map {
                    $0.trimmingWhitespace()
                }
                requirements.append(
                    term[range].contains("notin") ? .notIn(key, values) : .in(key, values))
            } else if let range = term.firstRange(of: "!=") {
                requirements.append(.notEquals(Self.trim(term[..<range.lowerBound]), Self.trim(term[range.upperBound...])))
            } else if let range = term.firstRange(of: "==") ?? term.firstRange(of: "=") {
                let key = Self.trim(term[..<range.lowerBound])
                guard !key.isEmpty else { throw ParseError(selector: text, message: "empty key in \(term)") }
                requirements.append(.equals(key, Self.trim(term[range.upperBound...])))
            } else if term.hasPrefix("!") {
                requirements.append(.doesNotExist(Self.trim(term.dropFirst())))
            } else {
                guard !term.contains(" ") else { throw ParseError(selector: text, message: "cannot parse \(term)") }
                requirements.append(.exists(term))
            }
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .in(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return !(labels[key].map(values.contains) ?? false)
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            }
        }
    }

    public var description: String {
        requirements.map { requirement in
            switch requirement {
            case .equals(let key, let value): return "\(key)=\(value)"
            case .notEquals(let key, let value): return "\(key)!=\(value)"
            case .in(let key, let values): return "\(key) in (\(values.joined(separator: ",")))"
            case .notIn(let key, let values): return "\(key) notin (\(values.joined(separator: ",")))"
            case .exists(let key): return key
            case .doesNotExist(let key): return "!\(key)"
            }
        }.joined(separator: ",")
    }

    private static func trim(_ text: Substring) -> String { text.trimmingWhitespace() }

    /// Splits on commas outside parentheses.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }
}

import FoundationEssentials
import PeriscopeSystem
