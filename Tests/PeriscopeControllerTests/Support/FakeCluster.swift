import PeriscopeAPI
import PeriscopeController
import PeriscopeKube

/// The API server and the controller's caches as one value: carries out a reconcile's actions
/// the way the API server would (resourceVersion and generation bumps, status subresource) and
/// counts the writes.
struct FakeCluster {
    var state: ClusterState
    var revision = 100
    var writes = 0

    init(_ state: ClusterState) {
        self.state = state
    }

    /// Reconciles and carries out the actions; returns them.
    @discardableResult
    mutating func reconcile(_ reconciler: inout Reconciler, now: String = "2025-01-01T00:00:00Z", observe: Bool = true) -> [ControllerAction] {
        let actions = reconciler.reconcile(state, now: now)
        for action in actions {
            writes += 1
            let outcome = carryOut(action, observe: observe)
            reconciler.record(outcome)
            guard observe else { continue }
            // The caches' events for the write, as the adapter forwards them.
            switch outcome {
            case .applied(let object):
                reconciler.observe(.nodeInstrumentation(object))
            case .deleted(let name):
                reconciler.observe(.nodeInstrumentationDeleted(name: name))
            case .statusUpdated(let key, _, _):
                if let policy = state.policies.first(where: { $0.policyKey == key }) { reconciler.observe(.policy(policy)) }
            case .failed:
                break
            }
        }
        return actions
    }

    /// What the server stores; with `observe` the caches see it at once.
    mutating func carryOut(_ action: ControllerAction, observe: Bool) -> WriteOutcome {
        revision += 1
        switch action {
        case .applyNodeInstrumentation(var object):
            let name = object.metadata.name!
            let index = state.nodeInstrumentations.firstIndex { $0.metadata.name == name }
            let old = index.map { state.nodeInstrumentations[$0] }
            object.metadata.resourceVersion = String(revision)
            object.metadata.generation = (old?.metadata.generation ?? 0) + (old?.spec == object.spec ? 0 : 1)
            object.status = old?.status
            if observe {
                if let index { state.nodeInstrumentations[index] = object } else { state.nodeInstrumentations.append(object) }
            }
            return .applied(object)
        case .deleteNodeInstrumentation(let name):
            if observe { state.nodeInstrumentations.removeAll { $0.metadata.name == name } }
            return .deleted(name: name)
        case .updatePolicyStatus(let key, let status):
            if observe, let index = state.policies.firstIndex(where: { $0.policyKey == key }) {
                state.policies[index].status = status
                state.policies[index].metadata.resourceVersion = String(revision)
            }
            return .statusUpdated(key, resourceVersion: String(revision), status)
        }
    }

    /// Every agent applies its object: observed generation and the policies it carries.
    mutating func agentsApply(error: String? = nil, on node: String? = nil) {
        for index in state.nodeInstrumentations.indices {
            let object = state.nodeInstrumentations[index]
            guard node == nil || object.metadata.name == node else { continue }
            revision += 1
            state.nodeInstrumentations[index].status = NodeInstrumentation.Status(
                observedGeneration: object.metadata.generation,
                policies: object.spec.policies.map { .init(namespace: $0.namespace, name: $0.name, generation: $0.generation) },
                lastError: error.map { .init(message: $0) })
            state.nodeInstrumentations[index].metadata.resourceVersion = String(revision)
        }
    }

    func object(_ node: String) -> NodeInstrumentation? {
        state.nodeInstrumentations.first { $0.metadata.name == node }
    }

    func status(_ policy: String, namespace: String = "shop") -> InstrumentationPolicyStatus? {
        state.policies.first { $0.metadata.name == policy && $0.metadata.namespace == namespace }?.status
    }
}
