/// Core `v1` Namespace.
public struct Namespace: KubeResource, Hashable {
    public static let resourceType = KubeResourceType.namespaces

    public var apiVersion: String = "v1"
    public var kind: String = "Namespace"
    public var metadata: ObjectMeta

    public init(name: String, labels: [String: String]? = nil) {
        metadata = ObjectMeta(name: name, labels: labels)
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata }

    public init(from decoder: any Decoder) throws {
        metadata = try decoder.container(keyedBy: CodingKeys.self).decode(ObjectMeta.self, forKey: .metadata)
    }
}
