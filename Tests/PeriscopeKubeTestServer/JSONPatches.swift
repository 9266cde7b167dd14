import Foundation
import PeriscopeKube

/// RFC 7386 merge patch, RFC 6902 JSON patch, and the part of strategic merge patch built-in
/// kinds need (lists of objects merged by `name`).
enum JSONPatches {
    struct Failure: Error {
        var status: Int
        var message: String
    }

    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = mergePatch(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    static func strategicMergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else if case .array(let patchItems) = value, case .array(let targetItems)? = result[key],
                patchItems.allSatisfy({ $0["name"]?.stringValue != nil }), targetItems.allSatisfy({ $0["name"]?.stringValue != nil })
            {
                var merged = targetItems
                for item in patchItems {
                    if let index = merged.firstIndex(where: { $0["name"] == item["name"] }) {
                        merged[index] = strategicMergePatch(merged[index], item)
                    } else {
                        merged.append(item)
                    }
                }
                result[key] = .array(merged)
            } else {
                result[key] = strategicMergePatch(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    static func jsonPatch(_ target: JSONValue, _ operations: JSONValue) throws -> JSONValue {
        guard let operations = operations.arrayValue else {
            throw Failure(status: 400, message: "json patch must be an array of operations")
        }
        var document = target
        for operation in operations {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw Failure(status: 400, message: "json patch operation needs op and path")
            }
            let pointer = try parsePointer(path)
            switch op {
            case "add": document = try set(document, pointer, operation["value"] ?? .null, insert: true)
            case "replace":
                guard get(document, pointer) != nil else {
                    throw Failure(status: 422, message: "replace operation does not apply: doc is missing key: \(path)")
                }
                document = try set(document, pointer, operation["value"] ?? .null, insert: false)
            case "remove":
                guard get(document, pointer) != nil else {
                    throw Failure(status: 422, message: "remove operation does not apply: doc is missing path: \(path)")
                }
                document = try remove(document, pointer)
            case "test":
                guard get(document, pointer) == operation["value"] else {
                    throw Failure(status: 422, message: "testing value \(path) failed: test failed")
                }
            case "copy", "move":
                guard let from = operation["from"]?.stringValue, let value = get(document, try parsePointer(from)) else {
                    throw Failure(status: 422, message: "\(op) operation needs an existing from")
                }
                if op == "move" { document = try remove(document, try parsePointer(from)) }
                document = try set(document, pointer, value, insert: true)
            default:
                throw Failure(status: 400, message: "unknown json patch operation \(op)")
            }
        }
        return document
    }

    static func parsePointer(_ path: String) throws -> [String] {
        guard path.hasPrefix("/") else { throw Failure(status: 400, message: "invalid json pointer \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ document: JSONValue, _ pointer: [String]) -> JSONValue? {
        var current: JSONValue? = document
        for token in pointer {
            switch current {
            case .object(let members)?: current = members[token]
            case .array(let items)?:
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    static func set(_ document: JSONValue, _ pointer: [String], _ value: JSONValue, insert: Bool) throws -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard let child = members[token] else {
                    throw Failure(status: 422, message: "add operation does not apply: doc is missing path: /\(pointer.joined(separator: "/"))")
                }
                members[token] = try set(child, rest, value, insert: insert)
            }
            return .object(members)
        case .array(var items):
            if token == "-", rest.isEmpty {
                items.append(value)
            } else {
                guard let index = Int(token), index >= 0, index <= items.count else {
                    throw Failure(status: 422, message: "array index \(token) out of bounds")
                }
                if rest.isEmpty {
                    if insert { items.insert(value, at: index) } else if index < items.count { items[index] = value }
                } else {
                    guard index < items.count else { throw Failure(status: 422, message: "array index \(token) out of bounds") }
                    items[index] = try set(items[index], rest, value, insert: insert)
                }
            }
            return .array(items)
        default:
            throw Failure(status: 422, message: "cannot set a member of a scalar")
        }
    }

    static func remove(_ document: JSONValue, _ pointer: [String]) throws -> JSONValue {
        guard let token = pointer.first else { return .null }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty { members[token] = nil } else if let child = members[token] { members[token] = try remove(child, rest) }
            return .object(members)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { throw Failure(status: 422, message: "bad index \(token)") }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = try remove(items[index], rest) }
            return .array(items)
        default:
            return document
        }
    }
}
