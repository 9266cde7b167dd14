import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube

/// The controller's decision core: it takes the caches' changes one at a time (`observe`), keeps
/// the resolution current with `IncrementalResolution`, and says which writes bring the cluster
/// to it (`decide`), as values. Only the node objects and policies a change can affect are looked
/// at; the same observed state always gives the same decisions, and once they are carried out,
/// none.
///
/// Caches lag behind the controller's own writes, so it remembers each write until its cache
/// shows that version or relists, and judges against the newer of the two. The echo of a write
/// (its watch event) then costs a cache update and nothing else, whether it arrives before the
/// write's outcome is recorded, after, or after the next decision: one change is one write.
public struct Reconciler: Sendable {
    private struct PendingSpec: Sendable {
        var resourceVersion: String
        var spec: NodeInstrumentation.Spec
    }

    private struct PendingStatus: Sendable {
        var resourceVersion: String
        var status: InstrumentationPolicyStatus
    }

    public private(set) var resolution = IncrementalResolution()
    /// The NodeInstrumentations as the cache holds them.
    private var objects: [String: NodeInstrumentation] = [:]
    private var pendingSpecs: [String: PendingSpec] = [:]
    private var pendingDeletes: Set<String> = []
    private var pendingStatuses: [ObjectKey: PendingStatus] = [:]
    /// What the last decision found each node's spec and each policy's status should be: an
    /// event showing exactly that is an echo and needs no look.
    private var decidedSpecs: [String: NodeInstrumentation.Spec] = [:]
    private var decidedStatuses: [ObjectKey: InstrumentationPolicyStatus] = [:]
    /// The last versions the caches delivered, per object: a write whose echo arrived before its
    /// outcome was recorded needs no remembering.
    private var observedObjectVersions: [String: [String]] = [:]
    private var observedPolicyVersions: [ObjectKey: [String]] = [:]
    private static let observedVersionsKept = 4
    /// Validation results by spec: a policy is parsed once per change.
    private var validations: [InstrumentationPolicy.Spec: Result<Policy, PolicyRejection>] = [:]

    public init() {}

    /// Writes remembered but not yet observed.
    public var pendingWrites: Int { pendingSpecs.count + pendingDeletes.count + pendingStatuses.count }

    /// Whether a change since the last decision may call for a write.
    public var hasWork: Bool { !resolution.dirtyNodes.isEmpty || !resolution.dirtyPolicies.isEmpty }

    // MARK: Observing

    public mutating func observe(_ change: ClusterChange) {
        switch change {
        case .policy(let policy):
            let key = policy.policyKey
            if let version = policy.metadata.resourceVersion {
                Self.remember(version, in: &observedPolicyVersions[key, default: []])
                if pendingStatuses[key]?.resourceVersion == version { pendingStatuses[key] = nil }
            }
            var validations = self.validations
            resolution.upsert(policy) { spec in
                if let known = validations[spec] { return known }
                let result = PolicyValidation.validate(spec)
                validations[spec] = result
                return result
            }
            self.validations = validations
            // A status this controller did not decide (another writer, or a decision not yet
            // made) is looked at; the echo of its own is not.
            if pendingStatuses[key] == nil, !InstrumentationPolicyReconciler.sameState(policy.status, decidedStatuses[key]) {
                resolution.dirtyPolicies.insert(key)
            }
        case .policyDeleted(let key):
            resolution.removePolicy(key)
            pendingStatuses[key] = nil
            decidedStatuses[key] = nil
            observedPolicyVersions[key] = nil
            let specs = Set(resolution.policies.values.map(\.policy.spec))
            validations = validations.filter { specs.contains($0.key) }
        case .pod(let pod):
            resolution.upsert(pod)
        case .podDeleted(let key):
            resolution.removePod(key)
        case .node(let name):
            resolution.upsertNode(name)
        case .nodeDeleted(let name):
            resolution.removeNode(name)
        case .workload(let workload):
            resolution.upsert(workload)
        case .workloadDeleted(let kind, let namespace, let name):
            resolution.removeWorkload(kind: kind, namespace: namespace, name: name)
        case .nodeInstrumentation(let object):
            guard let name = object.metadata.name else { return }
            let old = objects.updateValue(object, forKey: name)
            if let version = object.metadata.resourceVersion {
                Self.remember(version, in: &observedObjectVersions[name, default: []])
                if pendingSpecs[name]?.resourceVersion == version { pendingSpecs[name] = nil }
            }
            if pendingSpecs[name] == nil, !pendingDeletes.contains(name),
                !resolution.nodes.contains(name) || decidedSpecs[name] != object.spec
            {
                resolution.dirtyNodes.insert(name)
            }
            // What the agent reports decides Ready.
            if old?.status?.policies != object.status?.policies || old?.status?.lastError != object.status?.lastError {
                resolution.dirtyPolicies.formUnion(resolution.policies(onNode: name))
            }
        case .nodeInstrumentationDeleted(let name):
            guard objects.removeValue(forKey: name) != nil else { return }
            observedObjectVersions[name] = nil
            pendingDeletes.remove(name)
            // A write still pending is newer than this deletion (its echo comes after it): the
            // server holds what it wrote, so it stays pending and is not written again.
            decidedSpecs[name] = nil
            // The object of an existing node is written anew; that of a node that is gone (the
            // echo of this controller's delete) needs nothing.
            guard resolution.nodes.contains(name) else { return }
            resolution.dirtyNodes.insert(name)
            resolution.dirtyPolicies.formUnion(resolution.policies(onNode: name))
        }
    }

    private static func remember(_ version: String, in versions: inout [String]) {
        versions.append(version)
        if versions.count > observedVersionsKept { versions.removeFirst() }
    }

    // MARK: Deciding

    /// The writes to make now, for what changed since the last decision. `now` (RFC 3339)
    /// stamps condition transitions.
    public mutating func decide(now: String) -> [ControllerAction] {
        var actions: [ControllerAction] = []
        for name in resolution.dirtyNodes.sorted() {
            if resolution.nodes.contains(name) {
                let spec = resolution.spec(forNode: name)
                decidedSpecs[name] = spec
                let current = pendingDeletes.contains(name) ? nil : (pendingSpecs[name]?.spec ?? objects[name]?.spec)
                if current != spec {
                    var metadata = ObjectMeta(name: name)
                    metadata.labels = [NodeInstrumentationReconciler.managedByLabel.0: NodeInstrumentationReconciler.managedByLabel.1]
                    actions.append(.applyNodeInstrumentation(NodeInstrumentation(metadata: metadata, spec: spec)))
                }
            } else {
                decidedSpecs[name] = nil
                if objects[name] != nil, !pendingDeletes.contains(name) { actions.append(.deleteNodeInstrumentation(name: name)) }
            }
        }
        resolution.dirtyNodes = []
        for key in resolution.dirtyPolicies.sorted() {
            guard let policy = resolution.policy(key) else { continue }
            let previous = pendingStatuses[key]?.status ?? policy.status
            let objects = self.objects
            let status = InstrumentationPolicyReconciler.status(
                of: policy, verdict: resolution.verdict(of: key), desiredNodes: resolution.desiredNodes(of: key),
                matchedPods: resolution.matchedPods(of: key), existing: { objects[$0] }, previous: previous, now: now)
            decidedStatuses[key] = status
            if !InstrumentationPolicyReconciler.sameState(status, previous) { actions.append(.updatePolicyStatus(key, status)) }
        }
        resolution.dirtyPolicies = []
        return actions
    }

    /// Records what a write did.
    public mutating func record(_ outcome: WriteOutcome) {
        switch outcome {
        case .applied(let object):
            guard let name = object.metadata.name else { return }
            guard let version = object.metadata.resourceVersion, observedObjectVersions[name]?.contains(version) != true else { return }
            pendingSpecs[name] = PendingSpec(resourceVersion: version, spec: object.spec)
        case .deleted(let name):
            pendingSpecs[name] = nil
            if objects[name] != nil { pendingDeletes.insert(name) }
        case .statusUpdated(let key, let version, let status):
            guard observedPolicyVersions[key]?.contains(version) != true else { return }
            pendingStatuses[key] = PendingStatus(resourceVersion: version, status: status)
        case .failed(let action):
            // Decided again at the next pass. What an earlier write left pending stays: a failed
            // write changed nothing on the server.
            switch action {
            case .applyNodeInstrumentation(let object):
                let name = object.metadata.name ?? ""
                decidedSpecs[name] = nil
                resolution.dirtyNodes.insert(name)
            case .deleteNodeInstrumentation(let name):
                resolution.dirtyNodes.insert(name)
            case .updatePolicyStatus(let key, _):
                decidedStatuses[key] = nil
                resolution.dirtyPolicies.insert(key)
            }
        }
    }

    /// A cache relisted, or leadership changed: the caches are the truth again, and everything
    /// is looked at once more.
    public mutating func resynced() {
        pendingSpecs = [:]
        pendingDeletes = []
        pendingStatuses = [:]
        markEverything()
    }

    private mutating func markEverything() {
        resolution.dirtyNodes.formUnion(resolution.nodes)
        resolution.dirtyNodes.formUnion(objects.keys)
        resolution.dirtyPolicies.formUnion(resolution.policies.keys)
    }

    // MARK: Consistency

    /// Compares the incremental resolution with a full one over the same objects. A difference
    /// is a bug: each is returned (for the log), the resolution is rebuilt from the objects, and
    /// either way every node object and status is looked at again at the next decision.
    public mutating func checkConsistency() -> [String] {
        let state = resolution.state
        let validations = self.validations
        let full = PolicyResolution(state) { validations[$0] ?? PolicyValidation.validate($0) }
        var differences: [String] = []
        for name in Set(full.desired.keys).union(resolution.nodes).sorted() {
            let incremental = resolution.nodes.contains(name) ? resolution.spec(forNode: name) : nil
            if full.desired[name] != incremental {
                differences.append("node \(name): \(incremental?.targets.count ?? -1) targets where a full resolution has \(full.desired[name]?.targets.count ?? -1)")
            }
        }
        for key in Set(full.verdicts.keys).union(resolution.policies.keys).sorted() {
            let pods = full.matchedPods[key] ?? 0
            let nodes = (full.desiredNodes[key] ?? []).sorted()
            if resolution.matchedPods(of: key) != pods || resolution.desiredNodes(of: key) != nodes {
                differences.append(
                    "policy \(key): \(resolution.matchedPods(of: key)) pods on \(resolution.desiredNodes(of: key).count) nodes where a full resolution has \(pods) on \(nodes.count)"
                )
            }
        }
        if !differences.isEmpty {
            var rebuilt = IncrementalResolution()
            for node in state.nodes { rebuilt.upsertNode(node.metadata.name ?? "") }
            for workload in state.workloads { rebuilt.upsert(workload) }
            for policy in state.policies { rebuilt.upsert(policy) { validations[$0] ?? PolicyValidation.validate($0) } }
            for pod in state.pods { rebuilt.upsert(pod) }
            resolution = rebuilt
        }
        markEverything()
        return differences
    }

    // MARK: Whole states

    /// Observes the differences between what is held and `state`, then decides: the reconcile of
    /// a whole observed state, as tests and a fresh start take it.
    public mutating func reconcile(_ state: ClusterState, now: String) -> [ControllerAction] {
        for change in changes(to: state) { observe(change) }
        return decide(now: now)
    }

    /// The changes that turn what is held into `state`.
    public func changes(to state: ClusterState) -> [ClusterChange] {
        var changes: [ClusterChange] = []
        var nodes: Set<String> = []
        for node in state.nodes {
            guard let name = node.metadata.name else { continue }
            nodes.insert(name)
            if !resolution.nodes.contains(name) { changes.append(.node(name)) }
        }
        for name in resolution.nodes where !nodes.contains(name) { changes.append(.nodeDeleted(name)) }
        var workloads: Set<String> = []
        for workload in state.workloads {
            guard let kind = workload.kind, let name = workload.metadata.name else { continue }
            let key = OwnerResolver.key(kind: kind, namespace: workload.metadata.namespace ?? "", name: name)
            workloads.insert(key)
            if resolution.workloads[key] != workload { changes.append(.workload(workload)) }
        }
        for (key, workload) in resolution.workloads where !workloads.contains(key) {
            changes.append(.workloadDeleted(kind: workload.kind ?? "", namespace: workload.metadata.namespace ?? "", name: workload.metadata.name ?? ""))
        }
        var policies: Set<ObjectKey> = []
        for policy in state.policies {
            policies.insert(policy.policyKey)
            if resolution.policy(policy.policyKey) != policy { changes.append(.policy(policy)) }
        }
        for key in resolution.policies.keys where !policies.contains(key) { changes.append(.policyDeleted(key)) }
        var pods: Set<ObjectKey> = []
        for pod in state.pods {
            let key = ObjectKey(namespace: pod.metadata.namespace, name: pod.metadata.name ?? "")
            pods.insert(key)
            if resolution.pods[key] != pod { changes.append(.pod(pod)) }
        }
        for key in resolution.pods.keys where !pods.contains(key) { changes.append(.podDeleted(key)) }
        var names: Set<String> = []
        for object in state.nodeInstrumentations {
            guard let name = object.metadata.name else { continue }
            names.insert(name)
            if objects[name] != object { changes.append(.nodeInstrumentation(object)) }
        }
        for name in objects.keys where !names.contains(name) { changes.append(.nodeInstrumentationDeleted(name: name)) }
        return changes
    }
}
