import PeriscopeKube

/// Core `v1` Node, metadata only: the controller needs to know which nodes exist.
public struct Node: KubeResource, Hashable {
    public static let resourceType = KubeResourceType.nodes

    public var metadata: ObjectMeta

    public init(name: String) {
        metadata = ObjectMeta(name: name)
    }

    enum CodingKeys: String, CodingKey { case metadata }
}
