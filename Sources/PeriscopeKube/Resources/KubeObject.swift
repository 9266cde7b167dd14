/// Any object the API server stores: something with `metadata`.
public protocol KubeObject: Codable, Sendable {
    var metadata: ObjectMeta { get set }
}

/// An object whose Swift type knows where it lives in the API.
public protocol KubeResource: KubeObject {
    static var resourceType: KubeResourceType { get }
}

extension KubeObject {
    /// `namespace/name`, or `name` for cluster-scoped objects: the informer's key.
    public var key: String { ObjectKey(namespace: metadata.namespace, name: metadata.name ?? "").description }
}

/// Identifies an object within one resource type.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = (namespace?.isEmpty ?? true) ? nil : namespace
        self.name = name
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.description < rhs.description }
}

/// A list response: `items` plus list metadata.
public struct KubeList<Item: KubeObject>: Codable, Sendable {
    public var metadata: ListMeta
    public var items: [Item]

    public init(metadata: ListMeta, items: [Item]) {
        self.metadata = metadata
        self.items = items
    }

    enum CodingKeys: String, CodingKey { case metadata, items }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}
