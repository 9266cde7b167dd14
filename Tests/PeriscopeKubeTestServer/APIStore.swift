import Foundation
import PeriscopeKube

/// One committed change, kept for watches and for lists at an older resourceVersion.
struct StoredEvent {
    var revision: Int
    var type: String
    var resource: String
    var key: ObjectKey
    var object: JSONValue
    var previous: JSONValue?
}

/// The test API server's storage: objects by resource, a global revision counter, the event
/// history since the last compaction, and field ownership. Guarded by `condition`, which also
/// wakes watches when something is committed.
final class APIStore: @unchecked Sendable {
    let condition = NSCondition()
    private(set) var resources: [ServedResource] = ServedResource.builtIn
    private var objects: [String: [ObjectKey: JSONValue]] = [:]
    private var ownership: [String: [ObjectKey: FieldOwnership]] = [:]
    private(set) var log: [StoredEvent] = []
    private(set) var revision: Int
    /// Lists at or before this revision answer 410.
    private(set) var compactedRevision = 0
    /// Watches from before this revision answer an `ERROR` 410 event.
    private(set) var watchWindowStart: Int
    var clock: @Sendable () -> Date = { Date() }

    init(initialRevision: Int) {
        revision = initialRevision
        watchWindowStart = initialRevision
    }

    static func id(_ type: KubeResourceType) -> String { "\(type.group)/\(type.plural)" }

    // MARK: Registry

    func register(_ resource: ServedResource) {
        resources.removeAll { $0.type.group == resource.type.group && $0.type.plural == resource.type.plural && $0.type.version == resource.type.version }
        resources.append(resource)
    }

    func resource(group: String, version: String, plural: String) -> ServedResource? {
        resources.first { $0.type.group == group && $0.type.version == version && $0.type.plural == plural }
    }

    // MARK: Reads

    func get(_ resource: ServedResource, _ key: ObjectKey) throws -> JSONValue {
        guard let object = objects[Self.id(resource.type)]?[key] else { throw notFound(resource, key.name) }
        return object
    }

    func current(_ resource: ServedResource) -> [ObjectKey: JSONValue] {
        objects[Self.id(resource.type)] ?? [:]
    }

    /// The objects of a resource as they were at `revision` (which must not be compacted).
    func state(of resource: ServedResource, at target: Int) -> [ObjectKey: JSONValue] {
        var state = current(resource)
        let id = Self.id(resource.type)
        for event in log.reversed() {
            if event.revision <= target { break }
            guard event.resource == id else { continue }
            if event.type == "ADDED" { state[event.key] = nil } else { state[event.key] = event.previous }
        }
        return state
    }

    func namespaceExists(_ name: String) -> Bool {
        objects[Self.id(.namespaces)]?[ObjectKey(namespace: nil, name: name)] != nil
    }

    // MARK: Writes

    func create(_ resource: ServedResource, namespace: String?, body: JSONValue, manager: String, strict: Bool) throws -> JSONValue {
        guard case .object = body else { throw APIFailure(400, "BadRequest", "the body of the request was not a JSON object") }
        var object = body
        var metadata = object["metadata"]?.objectValue ?? [:]
        if metadata["name"]?.stringValue?.isEmpty ?? true, let prefix = metadata["generateName"]?.stringValue {
            metadata["name"] = .string(prefix + String(UUID().uuidString.lowercased().prefix(5)))
        }
        guard let name = metadata["name"]?.stringValue, !name.isEmpty else {
            throw invalid(resource, name: "", causes: [.init(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
        }
        if resource.type.namespaced {
            let namespace = namespace ?? metadata["namespace"]?.stringValue ?? "default"
            if let declared = metadata["namespace"]?.stringValue, !declared.isEmpty, declared != namespace {
                throw APIFailure(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            }
            guard namespaceExists(namespace) else {
                throw APIFailure(404, "NotFound", "namespaces \"\(namespace)\" not found", details: .init(name: namespace, kind: "namespaces"))
            }
            metadata["namespace"] = .string(namespace)
        } else {
            metadata["namespace"] = nil
        }
        let key = ObjectKey(namespace: metadata["namespace"]?.stringValue, name: name)
        if objects[Self.id(resource.type)]?[key] != nil {
            throw APIFailure(
                409, "AlreadyExists", "\(resource.type.qualifiedName) \"\(name)\" already exists",
                details: .init(name: name, group: resource.type.group.isEmpty ? nil : resource.type.group, kind: resource.type.plural))
        }
        let now = timestamp()
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(now)
        metadata["resourceVersion"] = nil
        metadata["managedFields"] = nil
        metadata["selfLink"] = nil
        metadata["deletionTimestamp"] = nil
        if resource.tracksGeneration { metadata["generation"] = 1 } else { metadata["generation"] = nil }
        object["metadata"] = .object(metadata)
        object["apiVersion"] = .string(resource.type.apiVersion)
        object["kind"] = .string(resource.type.kind)
        if resource.hasStatus && resource.isCustom { object["status"] = nil }
        applyDefaults(resource, &object)
        object = try validate(resource, object, name: name, strict: strict)
        var fields = FieldOwnership()
        fields.recordUpdate(manager: manager, apiVersion: resource.type.apiVersion, time: now, subresource: nil, old: nil, new: object)
        return commit(resource, key, object, type: "ADDED", previous: nil, ownership: fields)
    }

    /// PUT of the main resource or of `status`.
    func update(_ resource: ServedResource, key: ObjectKey, body: JSONValue, subresource: String?, manager: String, strict: Bool) throws -> JSONValue {
        let existing = try get(resource, key)
        guard case .object = body else { throw APIFailure(400, "BadRequest", "the body of the request was not a JSON object") }
        if let name = body["metadata"]?["name"]?.stringValue, name != key.name {
            throw APIFailure(400, "BadRequest", "the name of the object (\(name)) does not match the name on the URL (\(key.name))")
        }
        if let version = body["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty,
            version != existing["metadata"]?["resourceVersion"]?.stringValue
        {
            throw conflict(resource, key.name)
        }
        return try finishUpdate(resource, key: key, existing: existing, proposed: body, subresource: subresource, manager: manager, strict: strict)
    }

    func patch(
        _ resource: ServedResource, key: ObjectKey, patch: JSONValue, contentType: String, subresource: String?, manager: String, strict: Bool
    ) throws -> JSONValue {
        let existing = try get(resource, key)
        let patched: JSONValue
        do {
            switch contentType {
            case "application/merge-patch+json": patched = JSONPatches.mergePatch(existing, patch)
            case "application/json-patch+json": patched = try JSONPatches.jsonPatch(existing, patch)
            case "application/strategic-merge-patch+json":
                guard !resource.isCustom else {
                    throw APIFailure(
                        415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
                }
                patched = JSONPatches.strategicMergePatch(existing, patch)
            default:
                throw APIFailure(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            }
        } catch let failure as JSONPatches.Failure {
            throw APIFailure(failure.status, failure.status == 422 ? "Invalid" : "BadRequest", failure.message)
        }
        if let version = patched["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty,
            version != existing["metadata"]?["resourceVersion"]?.stringValue
        {
            throw conflict(resource, key.name)
        }
        return try finishUpdate(resource, key: key, existing: existing, proposed: patched, subresource: subresource, manager: manager, strict: strict)
    }

    /// Server-side apply: creates the object when missing (`created` true).
    func apply(
        _ resource: ServedResource, key: ObjectKey, config: JSONValue, manager: String, force: Bool, strict: Bool
    ) throws -> (object: JSONValue, created: Bool) {
        guard case .object = config else { throw APIFailure(400, "BadRequest", "the body of the request was not a JSON object") }
        if let name = config["metadata"]?["name"]?.stringValue, name != key.name {
            throw APIFailure(400, "BadRequest", "the name of the object (\(name)) does not match the name on the URL (\(key.name))")
        }
        var config = config
        config["metadata"]?["managedFields"] = nil
        config["metadata"]?["resourceVersion"] = nil
        if resource.hasStatus { config["status"] = nil }
        let now = timestamp()
        guard let existing = objects[Self.id(resource.type)]?[key] else {
            // An apply naming a UID is bound to that object: it never creates a new one.
            if let uid = config["metadata"]?["uid"]?.stringValue, !uid.isEmpty {
                throw APIFailure(
                    409, "Conflict",
                    "Operation cannot be fulfilled on \(resource.type.qualifiedName) \"\(key.name)\": uid mismatch: the provided object specified uid \(uid), and no existing object was found",
                    details: .init(name: key.name, group: resource.type.group.isEmpty ? nil : resource.type.group, kind: resource.type.plural))
            }
            var object = config
            object["metadata"]?["name"] = .string(key.name)
            let created = try create(resource, namespace: key.namespace, body: object, manager: manager, strict: strict)
            var fields = FieldOwnership()
            _ = fields.apply(manager: manager, apiVersion: resource.type.apiVersion, time: now, config: config, to: created, force: true)
            ownership[Self.id(resource.type), default: [:]][key] = fields
            return (try replaceManagedFields(resource, key), true)
        }
        var fields = ownership[Self.id(resource.type)]?[key] ?? FieldOwnership()
        switch fields.apply(manager: manager, apiVersion: resource.type.apiVersion, time: now, config: config, to: existing, force: force) {
        case .failure(let failure):
            let conflicts = failure.conflicts
            let summary = conflicts.map { "conflict with \"\($0.manager)\" using \($0.apiVersion): \($0.field)" }
            let message = conflicts.count == 1
                ? "Apply failed with 1 conflict: \(summary[0])"
                : "Apply failed with \(conflicts.count) conflicts: \(summary.joined(separator: "\n"))"
            throw APIFailure(
                409, "Conflict", message,
                details: .init(causes: conflicts.map { KubeStatus.Cause(reason: "FieldManagerConflict", message: "conflict with \"\($0.manager)\" using \($0.apiVersion)", field: $0.field) }))
        case .success(let merged):
            let result = try finishUpdate(
                resource, key: key, existing: existing, proposed: merged, subresource: nil, manager: manager, strict: strict, ownership: fields)
            return (result, false)
        }
    }

    func delete(_ resource: ServedResource, key: ObjectKey, preconditionVersion: String?) throws -> JSONValue {
        let existing = try get(resource, key)
        if let preconditionVersion, let current = existing["metadata"]?["resourceVersion"]?.stringValue, preconditionVersion != current {
            throw APIFailure(
                409, "Conflict",
                "Operation cannot be fulfilled on \(resource.type.qualifiedName) \"\(key.name)\": the ResourceVersion in the precondition (\(preconditionVersion)) does not match the ResourceVersion in record (\(current)). The object might have been modified",
                details: .init(name: key.name, group: resource.type.group.isEmpty ? nil : resource.type.group, kind: resource.type.plural))
        }
        if resource.type == .namespaces {
            for other in resources where other.type.namespaced {
                for (childKey, _) in current(other) where childKey.namespace == key.name {
                    _ = try? delete(other, key: childKey, preconditionVersion: nil)
                }
            }
        }
        revision += 1
        var object = existing
        object["metadata"]?["resourceVersion"] = .string(String(revision))
        objects[Self.id(resource.type)]?[key] = nil
        ownership[Self.id(resource.type)]?[key] = nil
        log.append(StoredEvent(revision: revision, type: "DELETED", resource: Self.id(resource.type), key: key, object: object, previous: existing))
        condition.broadcast()
        return object
    }

    /// Forgets history up to now: older lists and watches answer 410.
    func compact() {
        compactedRevision = revision
        watchWindowStart = max(watchWindowStart, revision)
        log.removeAll { $0.revision <= revision }
        condition.broadcast()
    }

    // MARK: Internals

    private func finishUpdate(
        _ resource: ServedResource, key: ObjectKey, existing: JSONValue, proposed: JSONValue, subresource: String?, manager: String,
        strict: Bool, ownership applied: FieldOwnership? = nil
    ) throws -> JSONValue {
        var object: JSONValue
        if subresource == "status" {
            object = existing
            object["status"] = proposed["status"]
        } else {
            object = proposed
            var metadata = proposed["metadata"]?.objectValue ?? [:]
            let old = existing["metadata"]?.objectValue ?? [:]
            for immutable in ["name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "managedFields", "deletionTimestamp"] {
                metadata[immutable] = old[immutable]
            }
            object["metadata"] = .object(metadata)
            object["apiVersion"] = existing["apiVersion"]
            object["kind"] = existing["kind"]
            if resource.hasStatus { object["status"] = existing["status"] }
        }
        object = try validate(resource, object, name: key.name, strict: strict)
        if resource.tracksGeneration, Self.specPart(object) != Self.specPart(existing) {
            object["metadata"]?["generation"] = .int((existing["metadata"]?["generation"]?.intValue ?? 0) + 1)
        }
        var fields = applied ?? ownership[Self.id(resource.type)]?[key] ?? FieldOwnership()
        let written = proposed["metadata"]?["managedFields"]
        if applied == nil, subresource == nil, let written, written != existing["metadata"]?["managedFields"] {
            fields = FieldOwnership(managedFields: written)
        } else if applied == nil {
            fields.recordUpdate(
                manager: manager, apiVersion: resource.type.apiVersion, time: timestamp(), subresource: subresource, old: existing, new: object)
        }
        var comparable = object
        comparable["metadata"]?["managedFields"] = nil
        var existingComparable = existing
        existingComparable["metadata"]?["managedFields"] = nil
        if comparable == existingComparable {
            ownership[Self.id(resource.type), default: [:]][key] = fields
            return existing
        }
        return commit(resource, key, object, type: "MODIFIED", previous: existing, ownership: fields)
    }

    /// Everything but metadata and status: what moves `generation`.
    static func specPart(_ object: JSONValue) -> JSONValue {
        var part = object
        part["metadata"] = nil
        part["status"] = nil
        return part
    }

    private func commit(_ resource: ServedResource, _ key: ObjectKey, _ object: JSONValue, type: String, previous: JSONValue?, ownership fields: FieldOwnership) -> JSONValue {
        revision += 1
        var object = object
        object["metadata"]?["resourceVersion"] = .string(String(revision))
        object["metadata"]?["managedFields"] = fields.entries.isEmpty ? nil : fields.managedFields
        objects[Self.id(resource.type), default: [:]][key] = object
        ownership[Self.id(resource.type), default: [:]][key] = fields
        log.append(StoredEvent(revision: revision, type: type, resource: Self.id(resource.type), key: key, object: object, previous: previous))
        condition.broadcast()
        return object
    }

    private func replaceManagedFields(_ resource: ServedResource, _ key: ObjectKey) throws -> JSONValue {
        var object = try get(resource, key)
        let fields = ownership[Self.id(resource.type)]?[key] ?? FieldOwnership()
        object["metadata"]?["managedFields"] = fields.managedFields
        objects[Self.id(resource.type)]?[key] = object
        if let index = log.lastIndex(where: { $0.resource == Self.id(resource.type) && $0.key == key }) { log[index].object = object }
        return object
    }

    private func applyDefaults(_ resource: ServedResource, _ object: inout JSONValue) {
        switch resource.type {
        case .namespaces:
            if object["spec"] == nil { object["spec"] = ["finalizers": ["kubernetes"]] }
            object["status"] = ["phase": "Active"]
        case .pods:
            if object["status"] == nil { object["status"] = ["phase": "Pending", "qosClass": "BestEffort"] }
        default:
            break
        }
    }

    private func validate(_ resource: ServedResource, _ object: JSONValue, name: String, strict: Bool) throws -> JSONValue {
        guard let schema = resource.schema else { return object }
        var validator = SchemaValidator()
        let pruned = validator.validate(object, schema: schema, path: "")
        if !validator.causes.isEmpty { throw invalid(resource, name: name, causes: validator.causes) }
        if strict, !validator.unknownFields.isEmpty {
            throw APIFailure(
                400, "BadRequest",
                "strict decoding error: " + validator.unknownFields.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        }
        return pruned
    }

    func invalid(_ resource: ServedResource, name: String, causes: [KubeStatus.Cause]) -> APIFailure {
        let rendered = causes.map { "\($0.field ?? ""): \($0.message ?? "")" }
        let summary = rendered.count == 1 ? rendered[0] : "[\(rendered.joined(separator: ", "))]"
        return APIFailure(
            422, "Invalid", "\(resource.qualifiedKind) \"\(name)\" is invalid: \(summary)",
            details: .init(name: name, group: resource.type.group.isEmpty ? nil : resource.type.group, kind: resource.type.kind, causes: causes))
    }

    func notFound(_ resource: ServedResource, _ name: String) -> APIFailure {
        APIFailure(
            404, "NotFound", "\(resource.type.qualifiedName) \"\(name)\" not found",
            details: .init(name: name, group: resource.type.group.isEmpty ? nil : resource.type.group, kind: resource.type.plural))
    }

    func conflict(_ resource: ServedResource, _ name: String) -> APIFailure {
        APIFailure(
            409, "Conflict",
            "Operation cannot be fulfilled on \(resource.type.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: .init(name: name, group: resource.type.group.isEmpty ? nil : resource.type.group, kind: resource.type.plural))
    }

    func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: clock())
    }
}
