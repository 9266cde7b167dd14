extension YAMLNode.Scalar {
    /// What a scalar means under YAML 1.1's core schema, as Kubernetes tooling reads manifests:
    /// quoted and block scalars and `!!str` are text; a plain scalar is null (`~`, `null`, empty),
    /// a boolean (`true`, `yes`, `on`, … in three casings), an integer (decimal, `0x`, `0o`, `0`
    /// octal, `0b`, with `_` separators), a float (with `.inf`/`.nan`), or else text.
    public enum Resolved: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
    }

    public var resolved: Resolved {
        if let tag {
            switch tag {
            case "tag:yaml.org,2002:str": return .string(text)
            case "tag:yaml.org,2002:null": return .null
            case "tag:yaml.org,2002:bool": return Self.bool(text).map(Resolved.bool) ?? .string(text)
            case "tag:yaml.org,2002:int": return Self.integer(text).map(Resolved.int) ?? .string(text)
            case "tag:yaml.org,2002:float": return Self.float(text).map(Resolved.double) ?? .string(text)
            default: return .string(text)
            }
        }
        guard style == .plain else { return .string(text) }
        if Self.isNull(text) { return .null }
        if let value = Self.bool(text) { return .bool(value) }
        if let value = Self.integer(text) { return .int(value) }
        if let value = Self.float(text) { return .double(value) }
        return .string(text)
    }

    /// True for a plain scalar YAML reads as null.
    public var isNull: Bool {
        tag == "tag:yaml.org,2002:null" || (tag == nil && style == .plain && Self.isNull(text))
    }

    static func isNull(_ text: String) -> Bool {
        switch text {
        case "", "~", "null", "Null", "NULL": true
        default: false
        }
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": false
        default: nil
        }
    }

    static func integer(_ text: String) -> Int64? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard let first = digits.first, first.isASCII, first.isNumber, !digits.hasPrefix("_") else { return nil }
        var radix = 10
        if digits.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        let plain = digits.filter { $0 != "_" }
        guard !plain.isEmpty, let magnitude = UInt64(plain, radix: radix) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }

    static func float(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // Digits, one point and an exponent: what Double's parser also accepts, minus the
        // spellings YAML does not have (`inf`, `nan`, hexadecimal).
        var sawDigit = false
        for character in text {
            switch character {
            case "0"..."9": sawDigit = true
            case ".", "-", "+", "e", "E", "_": break
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        return Double(text.filter { $0 != "_" })
    }
}
