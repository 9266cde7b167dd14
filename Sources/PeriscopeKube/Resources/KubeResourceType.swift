/// Where a kind of object lives in the API: group, version, plural name and scope.
public struct KubeResourceType: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// Lower-case plural used in paths, e.g. `instrumentationpolicies`.
    public var plural: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` or `group/version`, the value of an object's `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `pods` or `instrumentationpolicies.periscope.dev`, as the API server names it in messages.
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public var description: String { qualifiedName }

    /// The path of a collection or of one object, optionally of its subresource (`status`).
    /// Namespaced resources listed across all namespaces pass `namespace: nil`.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace {
            path += "/namespaces/\(namespace.percentEncodedPathComponent)"
        }
        path += "/\(plural)"
        if let name {
            path += "/\(name.percentEncodedPathComponent)"
            if let subresource { path += "/\(subresource)" }
        }
        return path
    }
}

extension KubeResourceType {
    public static let namespaces = KubeResourceType(
        group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let pods = KubeResourceType(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)
    public static let nodes = KubeResourceType(group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false)
    public static let configMaps = KubeResourceType(
        group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let leases = KubeResourceType(
        group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    /// `replicasets.apps`: read to resolve a pod's owner up to its Deployment.
    public static let replicaSets = KubeResourceType(group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true)
    /// `jobs.batch`: read to resolve a pod's owner up to its CronJob.
    public static let jobs = KubeResourceType(group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true)
    public static let customResourceDefinitions = KubeResourceType(
        group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions",
        kind: "CustomResourceDefinition", namespaced: false)
}

extension String {
    var percentEncodedPathComponent: String { percentEncoded(keeping: "-._~:@") }

    var percentEncodedQueryValue: String { percentEncoded(keeping: "-._~") }

    /// UTF-8 bytes other than ASCII letters, digits and `punctuation` as `%XX`.
    private func percentEncoded(keeping punctuation: StaticString) -> String {
        let kept = UnsafeBufferPointer(start: punctuation.utf8Start, count: punctuation.utf8CodeUnitCount)
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(utf8.count)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                encoded.append(byte)
            case _ where kept.contains(byte):
                encoded.append(byte)
            default:
                encoded.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}

import FoundationEssentials
