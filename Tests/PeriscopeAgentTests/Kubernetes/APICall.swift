import Foundation
import PeriscopeKube
import PeriscopeKubeTestServer

/// One Kubernetes API request as RBAC sees it: verb, API group, resource (with subresource)
/// and namespace, parsed from a test API server log line (`PATCH /apis/g/v/namespaces/ns/r/n/status?…`).
struct APICall: Hashable, CustomStringConvertible {
    var verb: String
    var group: String
    var resource: String
    var namespace: String?

    init(verb: String, group: String, resource: String, namespace: String? = nil) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.namespace = namespace
    }

    /// The calls RBAC checks for one log line: a server-side apply (a PATCH with `force=`) is
    /// authorized as `patch`, and as `create` when it creates the object.
    static func calls(logLine: String, creates: Bool) -> [APICall] {
        guard let call = APICall(logLine: logLine) else { return [] }
        guard call.verb == "patch", logLine.contains("force="), creates else { return [call] }
        var create = call
        create.verb = "create"
        return [call, create]
    }

    init?(logLine: String) {
        let parts = logLine.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let method = String(parts[0])
        let pathAndQuery = parts[1].split(separator: "?", maxSplits: 1)
        let query = pathAndQuery.count == 2 ? String(pathAndQuery[1]) : ""
        var segments = pathAndQuery[0].split(separator: "/").map(String.init)
        if segments.first == "api", segments.count >= 2 {
            group = ""
            segments.removeFirst(2)
        } else if segments.first == "apis", segments.count >= 3 {
            group = segments[1]
            segments.removeFirst(3)
        } else {
            return nil
        }
        if segments.first == "namespaces", segments.count >= 3 {
            namespace = segments[1]
            segments.removeFirst(2)
        }
        guard let resource = segments.first else { return nil }
        let name = segments.count >= 2 ? segments[1] : nil
        self.resource = segments.count >= 3 ? "\(resource)/\(segments[2])" : resource
        switch method {
        case "GET": verb = name != nil ? "get" : query.contains("watch=true") || query.contains("watch=1") ? "watch" : "list"
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = name != nil ? "delete" : "deletecollection"
        default: return nil
        }
    }

    var description: String { "\(verb) \(group.isEmpty ? "core" : group)/\(resource)\(namespace.map { " in \($0)" } ?? "")" }

    /// What a ClusterRole or Role grants, as calls; the namespace is the Role's, nil for a ClusterRole.
    static func granted(byRolesNamed name: String, inManifestsAt directory: String) throws -> Set<APICall> {
        var granted: Set<APICall> = []
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }
        for file in files {
            let text = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
            for case let document as [String: Any] in try JSONValue.untypedDocuments(yaml: text) {
                guard let kind = document["kind"] as? String, kind == "ClusterRole" || kind == "Role",
                    let metadata = document["metadata"] as? [String: Any], let roleName = metadata["name"] as? String,
                    roleName == name || roleName.hasPrefix(name + "-")
                else { continue }
                let namespace = kind == "Role" ? metadata["namespace"] as? String : nil
                for rule in document["rules"] as? [[String: Any]] ?? [] {
                    for group in rule["apiGroups"] as? [String] ?? [] {
                        for resource in rule["resources"] as? [String] ?? [] {
                            for verb in rule["verbs"] as? [String] ?? [] {
                                granted.insert(APICall(verb: verb, group: group, resource: resource, namespace: namespace))
                            }
                        }
                    }
                }
            }
        }
        return granted
    }

    /// `calls` with the namespace dropped where the grant is cluster-wide, so they compare with `granted`.
    static func normalized(_ calls: some Sequence<APICall>, against granted: Set<APICall>) -> Set<APICall> {
        Set(calls.map { call in
            var clusterWide = call
            clusterWide.namespace = nil
            return granted.contains(call) ? call : clusterWide
        })
    }
}
