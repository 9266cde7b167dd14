import Foundation
import PeriscopeKube

/// Validates and prunes an object against a CRD's structural OpenAPI v3 schema, with the API
/// server's field paths (`spec.ports.port`, no list indices) and messages.
struct SchemaValidator {
    var causes: [KubeStatus.Cause] = []
    /// Fields dropped because the schema does not declare them (reported under `fieldValidation=Strict`).
    var unknownFields: [String] = []

    /// Returns the pruned value.
    mutating func validate(_ value: JSONValue, schema: JSONValue, path: String) -> JSONValue {
        if value == .null {
            if schema["nullable"] == .bool(true) { return value }
        }
        if schema["x-kubernetes-int-or-string"] == .bool(true) {
            switch value {
            case .int, .string: return value
            default:
                invalid(path, value, "\(path) in body must be of type integer,string: \(Self.typeName(value))")
                return value
            }
        }
        let type = schema["type"]?.stringValue
        switch type {
        case "object":
            guard case .object(let members) = value else {
                invalid(path, value, "\(path) in body must be of type object: \(Self.quotedType(value))")
                return value
            }
            var result = members
            let properties = schema["properties"]?.objectValue ?? [:]
            for required in schema["required"]?.arrayValue ?? [] {
                if let name = required.stringValue, members[name] == nil {
                    causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: Self.join(path, name)))
                }
            }
            for (key, member) in members {
                if let propertySchema = properties[key] {
                    result[key] = validate(member, schema: propertySchema, path: Self.join(path, key))
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    result[key] = validate(member, schema: additional, path: Self.join(path, key))
                } else if schema["x-kubernetes-preserve-unknown-fields"] == .bool(true) || path.isEmpty && ["apiVersion", "kind", "metadata"].contains(key) {
                    continue
                } else {
                    unknownFields.append(Self.join(path, key))
                    result[key] = nil
                }
            }
            if let minimum = schema["minProperties"]?.intValue, members.count < minimum {
                invalid(path, value, "\(path) in body should have at least \(minimum) properties")
            }
            return .object(result)
        case "array":
            guard case .array(let items) = value else {
                invalid(path, value, "\(path) in body must be of type array: \(Self.quotedType(value))")
                return value
            }
            if let minimum = schema["minItems"]?.intValue, items.count < minimum {
                invalid(path, value, "\(path) in body should have at least \(minimum) items")
            }
            if let maximum = schema["maxItems"]?.intValue, items.count > maximum {
                causes.append(.init(reason: "FieldValueTooMany", message: "Too many: \(items.count): must have at most \(maximum) items", field: path))
            }
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.map { validate($0, schema: itemSchema, path: path) })
        case "integer", "number":
            let number: Double
            switch value {
            case .int(let integer): number = Double(integer)
            case .double(let double) where type == "number" || double == double.rounded(): number = double
            default:
                invalid(path, value, "\(path) in body must be of type \(type!): \(Self.quotedType(value))")
                return value
            }
            if let minimum = Self.number(schema["minimum"]), number < minimum {
                invalid(path, value, "\(path) in body should be greater than or equal to \(Self.format(minimum))")
            }
            if let maximum = Self.number(schema["maximum"]), number > maximum {
                invalid(path, value, "\(path) in body should be less than or equal to \(Self.format(maximum))")
            }
        case "string":
            guard case .string(let string) = value else {
                invalid(path, value, "\(path) in body must be of type string: \(Self.quotedType(value))")
                return value
            }
            if let minimum = schema["minLength"]?.intValue, string.count < minimum {
                invalid(path, value, "\(path) in body should be at least \(minimum) chars long")
            }
            if let maximum = schema["maxLength"]?.intValue, string.count > maximum {
                causes.append(.init(reason: "FieldValueTooLong", message: "Too long: may not be longer than \(maximum)", field: path))
            }
            if let pattern = schema["pattern"]?.stringValue,
                let expression = try? NSRegularExpression(pattern: pattern),
                expression.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) == nil
            {
                invalid(path, value, "\(path) in body should match '\(pattern)'")
            }
        case "boolean":
            guard case .bool = value else {
                invalid(path, value, "\(path) in body must be of type boolean: \(Self.quotedType(value))")
                return value
            }
        default:
            break
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
            let list = allowed.map { "\"\($0.displayString)\"" }.joined(separator: ", ")
            causes.append(
                .init(reason: "FieldValueNotSupported", message: "Unsupported value: \(Self.render(value)): supported values: \(list)", field: path))
        }
        return value
    }

    private mutating func invalid(_ path: String, _ value: JSONValue, _ detail: String) {
        causes.append(.init(reason: "FieldValueInvalid", message: "Invalid value: \(Self.render(value)): \(detail)", field: path))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let string): return "\"\(string)\""
        case .object, .array: return "\"\(typeName(value))\""
        default: return value.displayString
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func quotedType(_ value: JSONValue) -> String { "\"\(typeName(value))\"" }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let integer)?: return Double(integer)
        case .double(let double)?: return double
        default: return nil
        }
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int64(number)) : String(number)
    }
}
