import Foundation
import PeriscopeKube

/// Server-side apply bookkeeping for one object: which manager owns which leaf fields.
/// Lists are atomic (owned as a whole), as in CRDs without list-type annotations.
struct FieldOwnership: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var manager: String
        var operation: String
        var apiVersion: String
        var time: String
        var subresource: String?
        var fields: Set<[String]>
    }

    var entries: [Entry] = []

    init() {}

    /// Leaf paths of an object, limited to what field managers track.
    static func leafPaths(_ value: JSONValue, statusOnly: Bool = false) -> Set<[String]> {
        var result: Set<[String]> = []
        guard let members = value.objectValue else { return result }
        for (key, member) in members {
            switch key {
            case "apiVersion", "kind": continue
            case "metadata":
                for field in ["labels", "annotations", "ownerReferences", "finalizers"] {
                    if let child = member[field] { collect(child, ["metadata", field], into: &result) }
                }
            case "status":
                collect(member, [key], into: &result)
            default:
                if !statusOnly { collect(member, [key], into: &result) }
            }
        }
        if statusOnly { result = result.filter { $0.first == "status" } }
        return result
    }

    private static func collect(_ value: JSONValue, _ prefix: [String], into result: inout Set<[String]>) {
        if case .object(let members) = value, !members.isEmpty {
            for (key, member) in members { collect(member, prefix + [key], into: &result) }
        } else {
            result.insert(prefix)
        }
    }

    static func value(_ object: JSONValue, at path: [String]) -> JSONValue? {
        var current: JSONValue? = object
        for component in path { current = current?[component] }
        return current
    }

    static func removing(_ path: [String], from object: JSONValue) -> JSONValue {
        guard let first = path.first, case .object(var members) = object else { return object }
        if path.count == 1 {
            members[first] = nil
        } else if let child = members[first] {
            members[first] = removing(Array(path.dropFirst()), from: child)
        }
        return .object(members)
    }

    static func deepMerge(_ base: JSONValue, _ overlay: JSONValue) -> JSONValue {
        guard case .object(let overlayMembers) = overlay, case .object(var members) = base else { return overlay }
        for (key, value) in overlayMembers { members[key] = deepMerge(members[key] ?? .null, value) }
        return .object(members)
    }

    /// An update (create, PUT, merge/JSON patch) by `manager`: it takes the fields it changed.
    mutating func recordUpdate(manager: String, apiVersion: String, time: String, subresource: String?, old: JSONValue?, new: JSONValue) {
        let statusOnly = subresource == "status"
        let newPaths = Self.leafPaths(new, statusOnly: statusOnly)
        let oldPaths = old.map { Self.leafPaths($0, statusOnly: statusOnly) } ?? []
        var changed: Set<[String]> = []
        for path in newPaths where old == nil || Self.value(old!, at: path) != Self.value(new, at: path) { changed.insert(path) }
        let removed = oldPaths.subtracting(newPaths)
        if changed.isEmpty && removed.isEmpty && old != nil { return }
        for index in entries.indices { entries[index].fields.subtract(changed.union(removed)) }
        if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Update" && $0.subresource == subresource }) {
            entries[index].fields.formUnion(changed)
            entries[index].time = time
        } else {
            entries.append(Entry(manager: manager, operation: "Update", apiVersion: apiVersion, time: time, subresource: subresource, fields: changed))
        }
        entries.removeAll { $0.fields.isEmpty }
    }

    struct Conflict: Sendable {
        var manager: String
        var apiVersion: String
        var field: String
    }

    struct Conflicts: Error {
        var conflicts: [Conflict]
    }

    /// A server-side apply of `config` by `manager`: returns the new object, or the conflicts
    /// with other managers' fields (when not forced).
    mutating func apply(manager: String, apiVersion: String, time: String, config: JSONValue, to object: JSONValue, force: Bool)
        -> Result<JSONValue, Conflicts>
    {
        let applied = Self.leafPaths(config)
        var conflicts: [Conflict] = []
        for entry in entries where entry.manager != manager {
            for path in entry.fields.intersection(applied).sorted(by: { $0.joined(separator: ".") < $1.joined(separator: ".") })
            where Self.value(object, at: path) != Self.value(config, at: path) {
                conflicts.append(Conflict(manager: entry.manager, apiVersion: entry.apiVersion, field: "." + path.joined(separator: ".")))
            }
        }
        if !conflicts.isEmpty && !force { return .failure(Conflicts(conflicts: conflicts)) }
        if force {
            let taken = Set(conflicts.map { $0.field })
            for index in entries.indices where entries[index].manager != manager {
                entries[index].fields = entries[index].fields.filter { !taken.contains("." + $0.joined(separator: ".")) }
            }
        }
        let previous = entries.first(where: { $0.manager == manager && $0.operation == "Apply" })?.fields ?? []
        let ownedByOthers = entries.filter { $0.manager != manager }.reduce(into: Set<[String]>()) { $0.formUnion($1.fields) }
        var result = object
        for path in previous.subtracting(applied).subtracting(ownedByOthers) { result = Self.removing(path, from: result) }
        result = Self.deepMerge(result, config)
        entries.removeAll { $0.manager == manager && $0.operation == "Apply" }
        entries.append(Entry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: time, subresource: nil, fields: applied))
        entries.removeAll { $0.fields.isEmpty }
        return .success(result)
    }

    /// Ownership as a client wrote it into `metadata.managedFields` (kubectl does when it moves
    /// fields from client-side to server-side apply).
    init(managedFields: JSONValue) {
        entries = (managedFields.arrayValue ?? []).compactMap { entry in
            guard let manager = entry["manager"]?.stringValue else { return nil }
            var fields: Set<[String]> = []
            Self.paths(entry["fieldsV1"] ?? [:], prefix: [], into: &fields)
            return Entry(
                manager: manager, operation: entry["operation"]?.stringValue ?? "Update", apiVersion: entry["apiVersion"]?.stringValue ?? "",
                time: entry["time"]?.stringValue ?? "", subresource: entry["subresource"]?.stringValue, fields: fields)
        }
    }

    private static func paths(_ tree: JSONValue, prefix: [String], into result: inout Set<[String]>) {
        let members = tree.objectValue ?? [:]
        let fieldKeys = members.keys.filter { $0.hasPrefix("f:") }
        if members.keys.contains(where: { $0.hasPrefix("k:") || $0.hasPrefix("v:") || $0.hasPrefix("i:") }) || fieldKeys.isEmpty {
            if !prefix.isEmpty { result.insert(prefix) }
            return
        }
        for key in fieldKeys { paths(members[key]!, prefix: prefix + [String(key.dropFirst(2))], into: &result) }
    }

    /// `metadata.managedFields` as the API server renders it.
    var managedFields: JSONValue {
        .array(entries.map { entry in
            var tree: JSONValue = .object([:])
            for path in entry.fields {
                tree = Self.insert(path.map { "f:\($0)" }, into: tree)
            }
            var rendered: [String: JSONValue] = [
                "manager": .string(entry.manager), "operation": .string(entry.operation), "apiVersion": .string(entry.apiVersion),
                "time": .string(entry.time), "fieldsType": "FieldsV1", "fieldsV1": tree,
            ]
            if let subresource = entry.subresource { rendered["subresource"] = .string(subresource) }
            return .object(rendered)
        })
    }

    private static func insert(_ path: [String], into tree: JSONValue) -> JSONValue {
        guard let first = path.first, case .object(var members) = tree else { return tree }
        members[first] = insert(Array(path.dropFirst()), into: members[first] ?? .object([:]))
        return .object(members)
    }
}
