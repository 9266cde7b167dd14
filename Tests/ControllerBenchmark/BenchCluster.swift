import PeriscopeAPI
import PeriscopeController
import PeriscopeKube

/// The benchmark's cluster: pod `i` lives in namespace `i % namespaces`, on node `i % nodes`,
/// labelled `app: app-(i % 4)`; each namespace has four policies, `policy-k` selecting
/// `app: app-k`. Even pods are owned by a ReplicaSet of Deployment `app-k`.
struct BenchCluster: Sendable {
    let client: KubeClient
    let nodeCount: Int
    let podCount: Int
    let namespaces: [String]

    enum ChangeKind: String, CaseIterable {
        case restart, labelOnly = "label-only", moveOut = "move-out", moveIn = "move-in", create, delete
    }

    /// A change made, and what its node's object shows once it is resolved.
    struct Change: Sendable {
        var node: String
        var isDone: @Sendable (NodeInstrumentation.Spec?) -> Bool
    }

    func pod(_ index: Int) -> (name: String, namespace: String, node: String, app: String) {
        ("pod-\(index)", namespaces[index % namespaces.count], "node-\(index % nodeCount)", "app-\(index % 4)")
    }

    func createNamespaces() async throws {
        try await concurrently(0..<namespaces.count) { index in
            do {
                _ = try await client.create(DynamicObject(type: .namespaces, metadata: ObjectMeta(name: namespaces[index])), .namespaces)
            } catch let error as KubeAPIError where error.code == .alreadyExists {}
        }
    }

    func populate(policyCount: Int) async throws {
        try await concurrently(0..<nodeCount) { index in
            _ = try await client.create(DynamicObject(type: .nodes, metadata: ObjectMeta(name: "node-\(index)")), .nodes)
        }
        try await concurrently(0..<policyCount) { index in
            let policy = DynamicObject(
                type: .instrumentationPolicies, metadata: ObjectMeta(name: "policy-\(index % 4)", namespace: namespaces[index / 4 % namespaces.count]),
                fields: ["spec": ["podSelector": ["matchLabels": ["app": .string("app-\(index % 4)")]], "ports": [["port": .int(Int64(8000 + index % 4))]]]])
            _ = try await client.create(policy, .instrumentationPolicies)
        }
        try await concurrently(0..<(namespaces.count * 4)) { index in
            let namespace = namespaces[index / 4]
            let app = "app-\(index % 4)"
            var metadata = ObjectMeta(name: "\(app)-5d8f", namespace: namespace, labels: ["app": app])
            metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: app, uid: "00000000-0000-0000-0000-00000000000\(index % 4)", controller: true)]
            let replicaSet = DynamicObject(
                type: .replicaSets, metadata: metadata,
                fields: [
                    "spec": [
                        "replicas": 0, "selector": ["matchLabels": ["app": .string(app)]],
                        "template": ["metadata": ["labels": ["app": .string(app)]], "spec": ["containers": [["name": "app", "image": "example/app:1"]]]],
                    ]
                ])
            _ = try await client.create(replicaSet, .replicaSets)
        }
        try await concurrently(0..<podCount) { index in try await createPod(index, restart: 0) }
    }

    func createPod(_ index: Int, restart: Int, name: String? = nil) async throws {
        let pod = pod(index)
        let name = name ?? pod.name
        var metadata = ObjectMeta(name: name, namespace: pod.namespace, labels: ["app": pod.app])
        if index % 2 == 0 {
            metadata.ownerReferences = [
                OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "\(pod.app)-5d8f", uid: "00000000-0000-0000-0000-0000000000aa", controller: true)
            ]
        }
        let object = DynamicObject(
            type: .pods, metadata: metadata,
            fields: ["spec": ["nodeName": .string(pod.node), "containers": [["name": "app", "image": "example/app:1"]]]])
        var created = try await client.create(object, .pods)
        created["status"] = Self.podStatus(name, restart: restart)
        _ = try await client.update(created, .pods, subresource: "status")
    }

    static func podStatus(_ name: String, restart: Int) -> JSONValue {
        ["phase": "Running", "containerStatuses": [["name": "app", "ready": true, "containerID": .string("containerd://\(name)-\(restart)")]]]
    }

    /// Makes one change of `kind` (round `round` picks the pod) and says when it is resolved.
    func change(_ kind: ChangeKind, round: Int) async throws -> Change {
        // Distinct pods per kind and round; move-in brings back the pod move-out took out.
        let index = (round * 7919 + (kind == .moveIn ? ChangeKind.moveOut : kind).offset * 104_729) % podCount
        let pod = pod(index)
        @Sendable func target(_ spec: NodeInstrumentation.Spec?, _ name: String) -> NodeInstrumentation.Target? {
            spec?.targets.first { $0.name == name && $0.namespace == pod.namespace }
        }
        switch kind {
        case .restart:
            var object = try await client.get(DynamicObject.self, .pods, namespace: pod.namespace, name: pod.name)
            object["status"] = Self.podStatus(pod.name, restart: round + 1)
            _ = try await client.update(object, .pods, subresource: "status")
            let wanted = "containerd://\(pod.name)-\(round + 1)"
            return Change(node: pod.node) { target($0, pod.name)?.containers.first?.id == wanted }
        case .labelOnly:
            try await patchLabels(pod.namespace, pod.name, ["version": .string("v\(round + 1)")])
            return Change(node: pod.node) { target($0, pod.name)?.labels["version"] == "v\(round + 1)" }
        case .moveOut:
            try await patchLabels(pod.namespace, pod.name, ["app": "none"])
            return Change(node: pod.node) { $0 != nil && target($0, pod.name) == nil }
        case .moveIn:
            try await patchLabels(pod.namespace, pod.name, ["app": .string(pod.app)])
            return Change(node: pod.node) { target($0, pod.name)?.labels["app"] == pod.app }
        case .create:
            let name = "extra-\(round)"
            try await createPod(index, restart: 0, name: name)
            return Change(node: pod.node) { target($0, name) != nil }
        case .delete:
            let name = "extra-\(round)"
            let created = ChangeKind.create.offset
            let owner = self.pod((round * 7919 + created * 104_729) % podCount)
            // As the kubelet ends it once its containers stopped (there is none here to do it).
            try await client.delete(.pods, namespace: owner.namespace, name: name, gracePeriodSeconds: 0)
            return Change(node: owner.node) { spec in spec != nil && spec!.targets.first { $0.name == name && $0.namespace == owner.namespace } == nil }
        }
    }

    private func patchLabels(_ namespace: String, _ name: String, _ labels: [String: JSONValue]) async throws {
        _ = try await client.patch(
            DynamicObject.self, .pods, namespace: namespace, name: name, patch: ["metadata": ["labels": .object(labels)]], as: .merge)
    }

    /// Takes back what the controller wrote: every node object deleted, every policy's status
    /// cleared, so that a controller started next resolves the whole cluster again.
    func clearControllerWrites(policies: [InstrumentationPolicy]) async throws {
        try await concurrently(0..<nodeCount) { index in
            do {
                try await client.delete(.nodeInstrumentations, namespace: nil, name: "node-\(index)")
            } catch let error as KubeAPIError where error.code == .notFound {}
        }
        try await concurrently(0..<policies.count) { index in
            let key = policies[index].policyKey
            _ = try await client.patch(
                DynamicObject.self, .instrumentationPolicies, namespace: key.namespace, name: key.name, patch: ["status": nil], as: .merge,
                subresource: "status")
        }
    }

    /// Differences between what the controller wrote and a full resolution of the cluster.
    func verify(nodeObjects: Informer<NodeInstrumentation>, policies: Informer<InstrumentationPolicy>) async throws -> [String] {
        let state = ClusterState(
            policies: try await client.list(InstrumentationPolicy.self).items, pods: try await client.list(Pod.self).items,
            nodes: try await client.list(Node.self).items,
            workloads: try await client.listAll(WorkloadObject.self, .replicaSets, namespace: nil).items.map { WorkloadObject(kind: "ReplicaSet", metadata: $0.metadata) })
        let full = PolicyResolution(state)
        var differences: [String] = []
        for (node, spec) in full.desired where nodeObjects.object(forKey: node)?.spec != spec {
            differences.append("node \(node)")
        }
        for policy in policies.objects {
            let key = policy.policyKey
            if policy.status?.matchedPods != full.matchedPods[key] || policy.status?.nodes?.desired != full.desiredNodes[key]?.count {
                differences.append("status of \(key)")
            }
        }
        return differences
    }

    private func concurrently(_ range: Range<Int>, width: Int = 16, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = range.lowerBound
            while next < range.upperBound, next - range.lowerBound < width {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            while try await group.next() != nil, next < range.upperBound {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            try await group.waitForAll()
        }
    }
}

extension BenchCluster.ChangeKind {
    var offset: Int { Self.allCases.firstIndex(of: self)! }
}
