import Foundation
import PeriscopeKube

/// A resource the test server serves: built in, or defined by a CRD.
struct ServedResource: Sendable {
    var type: KubeResourceType
    var singular: String
    var shortNames: [String]
    var categories: [String]
    var hasStatus: Bool
    /// Custom resources (and workload kinds) bump `metadata.generation` on spec changes.
    var tracksGeneration: Bool
    var schema: JSONValue?
    var printerColumns: [JSONValue]
    /// Fields usable in field selectors besides `metadata.name` / `metadata.namespace`.
    var selectableFields: [String]

    var isCustom: Bool { schema != nil }

    /// `Kind.group` as in validation messages (`InstrumentationPolicy.periscope.dev`, `Pod`).
    var qualifiedKind: String { type.group.isEmpty ? type.kind : "\(type.kind).\(type.group)" }

    static let builtIn: [ServedResource] = [
        ServedResource(
            type: .namespaces, singular: "namespace", shortNames: ["ns"], categories: [], hasStatus: true,
            tracksGeneration: false, schema: nil, printerColumns: [], selectableFields: ["status.phase"]),
        ServedResource(
            type: .pods, singular: "pod", shortNames: ["po"], categories: ["all"], hasStatus: true, tracksGeneration: false,
            schema: nil, printerColumns: [], selectableFields: ["spec.nodeName", "status.phase", "spec.serviceAccountName"]),
        ServedResource(
            type: .nodes, singular: "node", shortNames: ["no"], categories: [], hasStatus: true, tracksGeneration: false,
            schema: nil, printerColumns: [], selectableFields: []),
        ServedResource(
            type: .configMaps, singular: "configmap", shortNames: ["cm"], categories: [], hasStatus: false,
            tracksGeneration: false, schema: nil, printerColumns: [], selectableFields: []),
        ServedResource(
            type: KubeResourceType(group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true),
            singular: "replicaset", shortNames: ["rs"], categories: ["all"], hasStatus: true, tracksGeneration: true, schema: nil,
            printerColumns: [], selectableFields: []),
        ServedResource(
            type: KubeResourceType(group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true),
            singular: "job", shortNames: [], categories: ["all"], hasStatus: true, tracksGeneration: true, schema: nil,
            printerColumns: [], selectableFields: []),
        ServedResource(
            type: .leases, singular: "lease", shortNames: [], categories: [], hasStatus: false, tracksGeneration: false,
            schema: nil, printerColumns: [], selectableFields: ["spec.holderIdentity"]),
        // Kinds of the deployable manifests, served so kubectl can map and dry-run them.
        ServedResource(
            type: KubeResourceType(group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true),
            singular: "serviceaccount", shortNames: ["sa"], categories: [], hasStatus: false, tracksGeneration: false, schema: nil,
            printerColumns: [], selectableFields: []),
        ServedResource(
            type: KubeResourceType(group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true),
            singular: "deployment", shortNames: ["deploy"], categories: ["all"], hasStatus: true, tracksGeneration: true, schema: nil,
            printerColumns: [], selectableFields: []),
        ServedResource(
            type: KubeResourceType(group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true),
            singular: "daemonset", shortNames: ["ds"], categories: ["all"], hasStatus: true, tracksGeneration: true, schema: nil,
            printerColumns: [], selectableFields: []),
    ] + ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"].map { kind in
        ServedResource(
            type: KubeResourceType(
                group: "rbac.authorization.k8s.io", version: "v1", plural: kind.lowercased() + "s", kind: kind,
                namespaced: !kind.hasPrefix("Cluster")),
            singular: kind.lowercased(), shortNames: [], categories: [], hasStatus: false, tracksGeneration: false, schema: nil,
            printerColumns: [], selectableFields: [])
    } + [
        ServedResource(
            type: .customResourceDefinitions, singular: "customresourcedefinition", shortNames: ["crd", "crds"],
            categories: ["api-extensions"], hasStatus: true, tracksGeneration: true, schema: nil, printerColumns: [],
            selectableFields: []),
    ]

    /// The served versions of a CustomResourceDefinition document.
    static func fromCRD(_ crd: JSONValue) throws -> [ServedResource] {
        guard crd["kind"]?.stringValue == "CustomResourceDefinition", let spec = crd["spec"],
            let group = spec["group"]?.stringValue, let names = spec["names"],
            let plural = names["plural"]?.stringValue, let kind = names["kind"]?.stringValue
        else {
            throw TestServerError(message: "not a CustomResourceDefinition with group and names")
        }
        return (spec["versions"]?.arrayValue ?? []).compactMap { version in
            guard version["served"] != .bool(false), let name = version["name"]?.stringValue else { return nil }
            return ServedResource(
                type: KubeResourceType(
                    group: group, version: name, plural: plural, kind: kind, namespaced: spec["scope"]?.stringValue != "Cluster"),
                singular: names["singular"]?.stringValue ?? kind.lowercased(),
                shortNames: (names["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue),
                categories: (names["categories"]?.arrayValue ?? []).compactMap(\.stringValue),
                hasStatus: version["subresources"]?["status"] != nil, tracksGeneration: true,
                schema: version["schema"]?["openAPIV3Schema"] ?? .object(["type": "object", "x-kubernetes-preserve-unknown-fields": true]),
                printerColumns: version["additionalPrinterColumns"]?.arrayValue ?? [],
                selectableFields: [])
        }
    }

    var discoveryEntries: [JSONValue] {
        var main: [String: JSONValue] = [
            "name": .string(type.plural), "singularName": .string(singular), "namespaced": .bool(type.namespaced),
            "kind": .string(type.kind),
            "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
        ]
        if !shortNames.isEmpty { main["shortNames"] = .array(shortNames.map { .string($0) }) }
        if !categories.isEmpty { main["categories"] = .array(categories.map { .string($0) }) }
        var entries: [JSONValue] = [.object(main)]
        if hasStatus {
            entries.append([
                "name": .string("\(type.plural)/status"), "singularName": "", "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
            ])
        }
        return entries
    }
}

/// A test server setup failure.
public struct TestServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
