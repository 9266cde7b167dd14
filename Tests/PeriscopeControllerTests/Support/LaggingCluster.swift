import PeriscopeAPI
import PeriscopeController
import PeriscopeKube

/// An API server whose watches lag: every change, the controller's own writes included, is
/// queued per resource (in order, as a watch delivers them) and reaches the reconciler only when
/// the test delivers it. Counts writes that would change nothing on the server (repeats).
struct LaggingCluster {
    enum Resource: CaseIterable { case policies, pods, nodes, workloads, nodeInstrumentations }

    var state: ClusterState
    var queues: [Resource: [ClusterChange]] = [:]
    var revision = 1000
    var writes = 0
    var repeatedWrites: [String] = []

    init(_ state: ClusterState) {
        self.state = state
    }

    mutating func enqueue(_ change: ClusterChange) {
        let resource: Resource
        switch change {
        case .policy, .policyDeleted: resource = .policies
        case .pod, .podDeleted: resource = .pods
        case .node, .nodeDeleted: resource = .nodes
        case .workload, .workloadDeleted: resource = .workloads
        case .nodeInstrumentation, .nodeInstrumentationDeleted: resource = .nodeInstrumentations
        }
        queues[resource, default: []].append(change)
    }

    /// Delivers up to `count` queued events of `resource`, each observed on its own.
    mutating func deliver(_ resource: Resource, count: Int = .max, to reconciler: inout Reconciler, after: (Reconciler) -> Void = { _ in }) {
        var delivered = 0
        while delivered < count, let change = queues[resource]?.first {
            queues[resource]!.removeFirst()
            reconciler.observe(change)
            after(reconciler)
            delivered += 1
        }
    }

    mutating func deliverAll(to reconciler: inout Reconciler, after: (Reconciler) -> Void = { _ in }) {
        for resource in Resource.allCases { deliver(resource, to: &reconciler, after: after) }
    }

    var isQuiet: Bool { queues.values.allSatisfy(\.isEmpty) }

    /// Carries out one write as the API server would and queues its watch event.
    mutating func carryOut(_ action: ControllerAction, fail: Bool = false) -> WriteOutcome {
        writes += 1
        if fail { return .failed(action) }
        revision += 1
        switch action {
        case .applyNodeInstrumentation(var object):
            let name = object.metadata.name!
            let index = state.nodeInstrumentations.firstIndex { $0.metadata.name == name }
            let old = index.map { state.nodeInstrumentations[$0] }
            if old?.spec == object.spec { repeatedWrites.append("apply \(name)") }
            object.metadata.resourceVersion = String(revision)
            object.metadata.generation = (old?.metadata.generation ?? 0) + (old?.spec == object.spec ? 0 : 1)
            object.status = old?.status
            if let index { state.nodeInstrumentations[index] = object } else { state.nodeInstrumentations.append(object) }
            enqueue(.nodeInstrumentation(object))
            return .applied(object)
        case .deleteNodeInstrumentation(let name):
            guard state.nodeInstrumentations.contains(where: { $0.metadata.name == name }) else {
                repeatedWrites.append("delete \(name)")
                return .deleted(name: name)
            }
            state.nodeInstrumentations.removeAll { $0.metadata.name == name }
            enqueue(.nodeInstrumentationDeleted(name: name))
            return .deleted(name: name)
        case .updatePolicyStatus(let key, let status):
            guard let index = state.policies.firstIndex(where: { $0.policyKey == key }) else { return .failed(action) }
            if InstrumentationPolicyReconciler.sameState(state.policies[index].status, status) { repeatedWrites.append("status \(key)") }
            state.policies[index].status = status
            state.policies[index].metadata.resourceVersion = String(revision)
            enqueue(.policy(state.policies[index]))
            return .statusUpdated(key, resourceVersion: String(revision), status)
        }
    }

    /// The agent of `node` reports what it has applied (and maybe an error).
    mutating func agentApplies(on node: String, error: String?) {
        guard let index = state.nodeInstrumentations.firstIndex(where: { $0.metadata.name == node }) else { return }
        revision += 1
        let object = state.nodeInstrumentations[index]
        state.nodeInstrumentations[index].status = NodeInstrumentation.Status(
            observedGeneration: object.metadata.generation,
            policies: object.spec.policies.map { .init(namespace: $0.namespace, name: $0.name, generation: $0.generation) },
            lastError: error.map { .init(message: $0) })
        state.nodeInstrumentations[index].metadata.resourceVersion = String(revision)
        enqueue(.nodeInstrumentation(state.nodeInstrumentations[index]))
    }

    /// A change made by someone else (a cluster change from `RandomCluster`), queued.
    mutating func apply(_ change: ClusterChange) {
        revision += 1
        switch change {
        case .policy(var policy):
            policy.metadata.resourceVersion = String(revision)
            if let index = state.policies.firstIndex(where: { $0.policyKey == policy.policyKey }) {
                policy.status = state.policies[index].status
                state.policies[index] = policy
            }
            enqueue(.policy(policy))
        default:
            enqueue(change)
        }
    }
}
