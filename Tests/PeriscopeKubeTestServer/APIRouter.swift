import Foundation
import PeriscopeKube

/// Maps one request to discovery documents or to a resource operation on the store.
struct APIRouter {
    let store: APIStore
    let bookmarkInterval: Duration
    let server: TestAPIServer

    private static let json = ["Content-Type": "application/json"]

    func route(_ request: HTTPRequest, socket: BlockingSocket) -> HTTPReply {
        let segments = request.path.split(separator: "/").map(String.init)
        switch segments.first {
        case "version":
            return reply(200, [
                "major": "1", "minor": "32", "gitVersion": "v1.32.0-periscope-test", "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64",
            ])
        case "healthz", "readyz", "livez":
            return .full(status: 200, headers: ["Content-Type": "text/plain"], body: Data("ok".utf8))
        case "openapi":
            // OpenAPI v3 only (JSON; v2 is served as protobuf by real servers, not here): kubectl
            // reads it to learn that kinds exist and relies on server-side field validation.
            guard segments.count >= 2, segments[1] == "v3" else {
                return statusReply(APIFailure(404, "NotFound", "the server could not find the requested resource"))
            }
            return openAPIV3(Array(segments.dropFirst(2)))
        case "api":
            if segments.count == 1 {
                return reply(200, [
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string("127.0.0.1:\(server.port)")]],
                ])
            }
            return resourceRequest(request, group: "", version: segments[1], rest: Array(segments.dropFirst(2)), socket: socket)
        case "apis":
            if segments.count == 1 { return reply(200, groupList()) }
            if segments.count == 2 {
                guard let group = groupList()["groups"]?.arrayValue?.first(where: { $0["name"]?.stringValue == segments[1] }) else {
                    return notFoundPath()
                }
                var document = group
                document["kind"] = "APIGroup"
                document["apiVersion"] = "v1"
                return reply(200, document)
            }
            return resourceRequest(request, group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3)), socket: socket)
        default:
            return notFoundPath()
        }
    }

    private func openAPIV3(_ groupVersion: [String]) -> HTTPReply {
        let resources = locked { store.resources }
        func path(_ type: KubeResourceType) -> String { type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)" }
        if groupVersion.isEmpty {
            var paths: [String: JSONValue] = [:]
            for resource in resources {
                paths[path(resource.type)] = ["serverRelativeURL": .string("/openapi/v3/\(path(resource.type))?hash=periscope-test")]
            }
            return reply(200, ["paths": .object(paths)])
        }
        let wanted = groupVersion.joined(separator: "/")
        var schemas: [String: JSONValue] = [:]
        var paths: [String: JSONValue] = [:]
        for resource in resources where path(resource.type) == wanted {
            let gvk: JSONValue = ["group": .string(resource.type.group), "version": .string(resource.type.version), "kind": .string(resource.type.kind)]
            let parameters: JSONValue = .array(["dryRun", "fieldManager", "fieldValidation", "force"].map {
                ["name": .string($0), "in": "query", "schema": ["type": "string", "uniqueItems": true]]
            })
            let operation: JSONValue = ["x-kubernetes-group-version-kind": gvk, "parameters": parameters, "responses": [:]]
            let collection = "/" + path(resource.type) + (resource.type.namespaced ? "/namespaces/{namespace}" : "") + "/\(resource.type.plural)"
            paths[collection] = ["post": operation, "parameters": parameters]
            paths[collection + "/{name}"] = ["put": operation, "patch": operation, "parameters": parameters]
            var schema = resource.schema ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["x-kubernetes-group-version-kind"] = [
                ["group": .string(resource.type.group), "version": .string(resource.type.version), "kind": .string(resource.type.kind)]
            ]
            let prefix = resource.type.group.isEmpty ? "io.k8s.api.core" : resource.type.group.split(separator: ".").reversed().joined(separator: ".")
            schemas["\(prefix).\(resource.type.version).\(resource.type.kind)"] = schema
        }
        guard !schemas.isEmpty else { return notFoundPath() }
        return reply(200, [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
            "components": ["schemas": .object(schemas)],
        ])
    }

    private func notFoundPath() -> HTTPReply {
        statusReply(APIFailure(404, "NotFound", "the server could not find the requested resource"))
    }

    private func reply(_ status: Int, _ body: JSONValue) -> HTTPReply {
        .full(status: status, headers: Self.json, body: (try? body.encoded()) ?? Data())
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        store.condition.lock()
        defer { store.condition.unlock() }
        return try body()
    }

    private func groupList() -> JSONValue {
        let resources = locked { store.resources }
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for resource in resources where !resource.type.group.isEmpty {
            if versions[resource.type.group] == nil { order.append(resource.type.group) }
            if !(versions[resource.type.group]?.contains(resource.type.version) ?? false) {
                versions[resource.type.group, default: []].append(resource.type.version)
            }
        }
        let groups: [JSONValue] = order.map { group in
            let entries: [JSONValue] = versions[group]!.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
            return ["name": .string(group), "versions": .array(entries), "preferredVersion": entries[0]]
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    private func resourceRequest(_ request: HTTPRequest, group: String, version: String, rest: [String], socket: BlockingSocket) -> HTTPReply {
        let served = locked { store.resources.filter { $0.type.group == group && $0.type.version == version } }
        if rest.isEmpty {
            guard !served.isEmpty else { return notFoundPath() }
            return reply(200, [
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(served.flatMap(\.discoveryEntries)),
            ])
        }
        var namespace: String?
        var parts = rest
        if parts.count >= 3, parts[0] == "namespaces", served.first(where: { $0.type.plural == parts[2] })?.type.namespaced == true {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let resource = served.first(where: { $0.type.plural == parts[0] }) else { return notFoundPath() }
        if resource.type.namespaced == false { namespace = nil }
        let name = parts.count > 1 ? parts[1] : nil
        let subresource = parts.count > 2 ? parts[2] : nil
        if let subresource, subresource != "status" || !resource.hasStatus { return notFoundPath() }
        let manager = request.query["fieldManager"] ?? Self.manager(fromUserAgent: request.headers["user-agent"])
        let strict = request.query["fieldValidation"] == "Strict"
        do {
            switch (request.method, name) {
            case ("GET", nil):
                if request.query["watch"] == "1" || request.query["watch"] == "true" {
                    return try watch(resource, namespace: namespace, query: request.query, socket: socket)
                }
                let list = try locked { try self.list(resource, namespace: namespace, query: request.query) }
                if request.headers["accept"]?.contains("as=Table") == true {
                    return reply(200, TableRenderer.table(resource, list: list))
                }
                return reply(200, list)
            case ("GET", let name?):
                let object = try locked { try store.get(resource, ObjectKey(namespace: namespace, name: name)) }
                return reply(200, request.headers["accept"]?.contains("as=Table") == true ? TableRenderer.table(resource, list: ["items": [object]]) : object)
            case ("POST", nil):
                let body = try parse(request.body, contentType: request.headers["content-type"])
                let created = try locked { try store.create(resource, namespace: namespace, body: body, manager: manager, strict: strict) }
                if resource.type == .customResourceDefinitions { try server.installCRD(created) }
                return reply(201, created)
            case ("PUT", let name?):
                let body = try parse(request.body, contentType: request.headers["content-type"])
                let key = ObjectKey(namespace: namespace, name: name)
                return reply(200, try locked { try store.update(resource, key: key, body: body, subresource: subresource, manager: manager, strict: strict) })
            case ("PATCH", let name?):
                let key = ObjectKey(namespace: namespace, name: name)
                let contentType = (request.headers["content-type"] ?? "").split(separator: ";")[0].trimmingCharacters(in: .whitespaces)
                if contentType == "application/apply-patch+yaml" {
                    guard let fieldManager = request.query["fieldManager"], !fieldManager.isEmpty else {
                        throw APIFailure(400, "BadRequest", "PATCH, application/apply-patch+yaml requires fieldManager to be set")
                    }
                    let config = try JSONValue(yaml: String(decoding: request.body, as: UTF8.self))
                    let force = request.query["force"] == "true"
                    let result = try locked { try store.apply(resource, key: key, config: config, manager: fieldManager, force: force, strict: strict) }
                    return reply(result.created ? 201 : 200, result.object)
                }
                let patch = try parse(request.body, contentType: "application/json")
                return reply(200, try locked {
                    try store.patch(resource, key: key, patch: patch, contentType: contentType, subresource: subresource, manager: manager, strict: strict)
                })
            case ("DELETE", let name?):
                let options = request.body.isEmpty ? nil : try? JSONValue(json: request.body)
                let precondition = options?["preconditions"]?["resourceVersion"]?.stringValue
                return reply(200, try locked { try store.delete(resource, key: ObjectKey(namespace: namespace, name: name), preconditionVersion: precondition) })
            default:
                throw APIFailure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            }
        } catch let failure as APIFailure {
            return statusReply(failure)
        } catch {
            return statusReply(APIFailure(400, "BadRequest", "\(error)"))
        }
    }

    static func manager(fromUserAgent agent: String?) -> String {
        guard let agent, !agent.isEmpty else { return "unknown" }
        return String(agent.split(separator: "/")[0])
    }

    private func parse(_ body: Data, contentType: String?) throws -> JSONValue {
        do {
            if contentType?.contains("yaml") == true { return try JSONValue(yaml: String(decoding: body, as: UTF8.self)) }
            return try JSONValue(json: body)
        } catch {
            throw APIFailure(400, "BadRequest", "the body of the request could not be decoded as JSON")
        }
    }

    // MARK: List

    struct Filter {
        var namespace: String?
        var labels: LabelSelector?
        var fields: FieldSelector?

        func matches(_ object: JSONValue) -> Bool {
            if let namespace, object["metadata"]?["namespace"]?.stringValue != namespace { return false }
            if let labels {
                let values = (object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                if !labels.matches(values) { return false }
            }
            if let fields, !fields.matches({ object.value(atPath: $0)?.displayString }) { return false }
            return true
        }
    }

    func filter(_ resource: ServedResource, namespace: String?, query: [String: String]) throws -> Filter {
        var filter = Filter(namespace: namespace)
        if let text = query["labelSelector"], !text.isEmpty {
            do { filter.labels = try LabelSelector(parsing: text) } catch {
                throw APIFailure(400, "BadRequest", "unable to parse requirement: \(text)")
            }
        }
        if let text = query["fieldSelector"], !text.isEmpty {
            let fields: FieldSelector
            do { fields = try FieldSelector(parsing: text) } catch {
                throw APIFailure(400, "BadRequest", "invalid field selector: \(text)")
            }
            for term in fields.terms where !(["metadata.name", "metadata.namespace"] + resource.selectableFields).contains(term.field) {
                throw APIFailure(400, "BadRequest", "field label not supported: \(term.field)")
            }
            filter.fields = fields
        }
        return filter
    }

    private struct ContinueToken: Codable {
        var v: String
        var rv: Int
        var start: String
    }

    func list(_ resource: ServedResource, namespace: String?, query: [String: String]) throws -> JSONValue {
        let filter = try filter(resource, namespace: namespace, query: query)
        var listRevision = store.revision
        var start: String?
        if let token = query["continue"], !token.isEmpty {
            var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64), let decoded = try? JSONDecoder().decode(ContinueToken.self, from: data) else {
                throw APIFailure(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            guard decoded.rv > store.compactedRevision else {
                throw APIFailure(
                    410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            }
            listRevision = decoded.rv
            start = decoded.start
        } else if let version = query["resourceVersion"], !version.isEmpty, version != "0", query["resourceVersionMatch"] == "Exact" {
            guard let target = Int(version) else {
                throw APIFailure(400, "BadRequest", "invalid resource version: \(version)")
            }
            guard target > store.compactedRevision else {
                throw APIFailure(410, "Expired", "The resourceVersion for the provided list is too old.")
            }
            guard target <= store.revision else {
                throw APIFailure(504, "Timeout", "Too large resource version: \(target), current: \(store.revision)", details: .init(retryAfterSeconds: 1))
            }
            listRevision = target
        }
        let state = listRevision == store.revision ? store.current(resource) : store.state(of: resource, at: listRevision)
        var items = state.filter { filter.matches($0.value) }.map { (key: Self.listKey($0.key, namespaced: namespace != nil), object: $0.value) }
        items.sort { $0.key < $1.key }
        if let start { items.removeAll { $0.key < start } }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(listRevision))]
        if resource.isCustom { metadata["continue"] = "" }
        if let limitText = query["limit"], let limit = Int(limitText), limit > 0, items.count > limit {
            let remaining = items.count - limit
            items = Array(items.prefix(limit))
            // The same bytes the real server encodes: {"v":…,"rv":…,"start":"<last key>\u0000"}.
            let start = String(decoding: (try? JSONValue.string(items.last!.key + "\u{0}").encoded()) ?? Data(), as: UTF8.self)
            let data = Data(#"{"v":"meta.k8s.io/v1","rv":\#(listRevision),"start":\#(start)}"#.utf8)
            metadata["continue"] = .string(
                data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: ""))
            if filter.labels == nil && filter.fields == nil { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        }
        return [
            "apiVersion": .string(resource.type.apiVersion), "kind": .string("\(resource.type.kind)List"),
            "metadata": .object(metadata), "items": .array(items.map(\.object)),
        ]
    }

    static func listKey(_ key: ObjectKey, namespaced: Bool) -> String {
        namespaced ? key.name : key.description
    }

    // MARK: Watch

    private func watch(_ resource: ServedResource, namespace: String?, query: [String: String], socket: BlockingSocket) throws -> HTTPReply {
        let filter = try locked { try self.filter(resource, namespace: namespace, query: query) }
        let bookmarks = query["allowWatchBookmarks"] == "true"
        let timeout = TimeInterval(query["timeoutSeconds"].flatMap(Int.init) ?? 1800)
        let version = query["resourceVersion"] ?? ""
        if !version.isEmpty, version != "0", Int(version) == nil {
            throw APIFailure(400, "BadRequest", "invalid resource version: \(version)")
        }
        let store = self.store
        let server = self.server
        let bookmarkSeconds = Double(bookmarkInterval.components.seconds) + Double(bookmarkInterval.components.attoseconds) / 1e18
        return .stream(status: 200, headers: Self.json) { writer in
            server.registerWatch(writer.socket)
            defer { server.unregisterWatch(writer.socket) }
            let deadline = Date().addingTimeInterval(timeout)
            let id = APIStore.id(resource.type)
            func line(_ type: String, _ object: JSONValue) -> Data {
                var data = (try? JSONValue.object(["type": .string(type), "object": object]).encoded()) ?? Data()
                data.append(10)
                return data
            }
            func bookmark(_ revision: Int) -> Data {
                line("BOOKMARK", [
                    "apiVersion": .string(resource.type.apiVersion), "kind": .string(resource.type.kind),
                    "metadata": ["resourceVersion": .string(String(revision))],
                ])
            }
            func expired(_ revision: Int, _ oldest: Int) -> Data {
                var status = (try? JSONValue(encoding: KubeStatus(code: 410, reason: "Expired", message: "too old resource version: \(revision) (\(oldest))"))) ?? [:]
                status["metadata"] = .object([:])
                return line("ERROR", status)
            }
            store.condition.lock()
            var cursor: Int
            var pending: [Data] = []
            if version.isEmpty || version == "0" {
                cursor = store.revision
                for (_, object) in store.current(resource).sorted(by: { $0.key < $1.key }) where filter.matches(object) {
                    pending.append(line("ADDED", object))
                }
            } else {
                cursor = Int(version)!
                if cursor < store.watchWindowStart {
                    let oldest = store.watchWindowStart + 1
                    store.condition.unlock()
                    writer.write(expired(cursor, oldest))
                    writer.finish()
                    return
                }
            }
            var nextBookmark = Date().addingTimeInterval(bookmarkSeconds)
            while true {
                if cursor < store.watchWindowStart {
                    pending.append(expired(cursor, store.watchWindowStart + 1))
                    store.condition.unlock()
                    for data in pending { writer.write(data) }
                    writer.finish()
                    return
                }
                let firstIndex = Self.firstIndex(in: store.log, after: cursor)
                for event in store.log[firstIndex...] where event.resource == id {
                    let now = filter.matches(event.object)
                    let before = event.previous.map(filter.matches) ?? false
                    switch (event.type, before, now) {
                    case ("ADDED", _, true): pending.append(line("ADDED", event.object))
                    case ("MODIFIED", true, true): pending.append(line("MODIFIED", event.object))
                    case ("MODIFIED", false, true): pending.append(line("ADDED", event.object))
                    case ("MODIFIED", true, false): pending.append(line("DELETED", event.object))
                    case ("DELETED", true, _): pending.append(line("DELETED", event.object))
                    default: break
                    }
                }
                cursor = store.revision
                let finished = Date() >= deadline
                if bookmarks && (Date() >= nextBookmark || finished) {
                    pending.append(bookmark(cursor))
                    nextBookmark = Date().addingTimeInterval(bookmarkSeconds)
                }
                if !pending.isEmpty {
                    store.condition.unlock()
                    for data in pending where !writer.write(data) { return }
                    pending.removeAll()
                    store.condition.lock()
                }
                if finished || !writer.isOpen {
                    store.condition.unlock()
                    if writer.isOpen { writer.finish() }
                    return
                }
                if store.revision == cursor {
                    _ = store.condition.wait(until: min(deadline, bookmarks ? nextBookmark : deadline))
                }
            }
        }
    }

    static func firstIndex(in log: [StoredEvent], after revision: Int) -> Int {
        var low = 0
        var high = log.count
        while low < high {
            let middle = (low + high) / 2
            if log[middle].revision <= revision { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
