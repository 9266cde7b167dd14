import PeriscopeAPI
import PeriscopeController
import PeriscopeKube

/// Builders for the objects the tests observe.
enum Objects {
    static func pod(
        _ name: String, namespace: String = "shop", node: String? = "node-a", labels: [String: String] = ["app": "checkout"],
        containers: [String] = ["app"], ids: [String: String]? = nil, phase: String = "Running", owner: (kind: String, name: String)? = nil
    ) -> Pod {
        var metadata: JSONValue = [
            "name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(namespace)-\(name)"),
            "labels": .object(labels.mapValues { .string($0) }),
        ]
        if let owner {
            metadata["ownerReferences"] = [
                ["apiVersion": "apps/v1", "kind": .string(owner.kind), "name": .string(owner.name), "uid": "owner-uid", "controller": true]
            ]
        }
        let statusIDs = ids ?? Dictionary(uniqueKeysWithValues: containers.map { ($0, "containerd://\(name)-\($0)") })
        var spec: JSONValue = ["containers": .array(containers.map { ["name": .string($0), "image": "example/app:1"] })]
        if let node { spec["nodeName"] = .string(node) }
        let object: JSONValue = [
            "metadata": metadata, "spec": spec,
            "status": [
                "phase": .string(phase),
                "containerStatuses": .array(
                    containers.map { container in
                        var status: JSONValue = ["name": .string(container), "ready": true]
                        if let id = statusIDs[container] { status["containerID"] = .string(id) }
                        return status
                    }),
            ],
        ]
        return try! object.decode(as: Pod.self)
    }

    static func policy(
        _ name: String, namespace: String = "shop", generation: Int64 = 1, spec: InstrumentationPolicy.Spec = .init(),
        status: InstrumentationPolicyStatus? = nil, resourceVersion: String = "1"
    ) -> InstrumentationPolicy {
        var metadata = ObjectMeta(name: name, namespace: namespace, resourceVersion: resourceVersion)
        metadata.generation = generation
        return InstrumentationPolicy(metadata: metadata, spec: spec, status: status)
    }

    static func selector(_ labels: [String: String], _ expressions: [PodSelector.Expression] = []) -> PodSelector {
        PodSelector(matchLabels: labels, matchExpressions: expressions.isEmpty ? nil : expressions)
    }

    static func nodes(_ names: String...) -> [Node] { names.map { Node(name: $0) } }

    static func workload(_ kind: String, _ name: String, namespace: String = "shop", controller: (kind: String, name: String)?) -> WorkloadObject {
        var metadata = ObjectMeta(name: name, namespace: namespace)
        if let controller {
            metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: controller.kind, name: controller.name, uid: "u", controller: true)]
        }
        return WorkloadObject(kind: kind, metadata: metadata)
    }

    /// The object the API server would store for an apply of `spec`, at `generation`.
    static func stored(_ action: ControllerAction, resourceVersion: String, generation: Int64, observed: Int64? = nil) -> NodeInstrumentation? {
        guard case .applyNodeInstrumentation(var object) = action else { return nil }
        object.metadata.resourceVersion = resourceVersion
        object.metadata.generation = generation
        if let observed { object.status = .init(observedGeneration: observed) }
        return object
    }
}
