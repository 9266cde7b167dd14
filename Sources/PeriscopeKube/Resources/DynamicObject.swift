/// An object of any kind held as JSON: custom resources, or built-ins the client has no type for.
/// Unknown fields survive a read-modify-write round trip.
public struct DynamicObject: KubeObject, Hashable {
    public var json: [String: JSONValue]

    public init(json: [String: JSONValue]) {
        self.json = json
    }

    /// A new object of `type` with the given metadata and top-level fields (`spec`, `data`…).
    public init(type: KubeResourceType, metadata: ObjectMeta, fields: [String: JSONValue] = [:]) {
        json = fields
        json["apiVersion"] = .string(type.apiVersion)
        json["kind"] = .string(type.kind)
        self.metadata = metadata
    }

    public var metadata: ObjectMeta {
        get { (try? json["metadata"]?.decode(as: ObjectMeta.self)) ?? ObjectMeta() }
        set {
            var merged = json["metadata"]?.objectValue ?? [:]
            let known = (try? JSONValue(encoding: newValue).objectValue) ?? [:]
            for field in ["name", "generateName", "namespace", "uid", "resourceVersion", "generation",
                "creationTimestamp", "deletionTimestamp", "labels", "annotations", "ownerReferences", "finalizers"]
            {
                merged[field] = known[field]
            }
            json["metadata"] = .object(merged)
        }
    }

    public subscript(field: String) -> JSONValue? {
        get { json[field] }
        set { json[field] = newValue }
    }

    public init(from decoder: any Decoder) throws {
        json = try [String: JSONValue](from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
