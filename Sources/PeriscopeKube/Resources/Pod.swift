/// Core `v1` Pod, the fields Periscope reads: where it runs and its containers' IDs.
/// A read model: write pods through `DynamicObject` so fields not modelled here survive.
public struct Pod: KubeResource, Hashable {
    public static let resourceType = KubeResourceType.pods

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status

    public struct Spec: Codable, Sendable, Hashable {
        public var nodeName: String?
        public var containers: [Container]?
    }

    public struct Container: Codable, Sendable, Hashable {
        public var name: String
        public var image: String?
    }

    public struct Status: Codable, Sendable, Hashable {
        public var phase: String?
        public var podIP: String?
        public var containerStatuses: [ContainerStatus]?
    }

    public struct ContainerStatus: Codable, Sendable, Hashable {
        public var name: String
        /// `containerd://<64 hex>` once the container has started.
        public var containerID: String?
        public var ready: Bool?
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(Status.self, forKey: .status) ?? Status()
    }
}
