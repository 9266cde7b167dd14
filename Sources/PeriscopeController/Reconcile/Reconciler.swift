import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube

/// The controller's decision core: from what is observed, the writes that bring the cluster to
/// the resolution, as values. Level-triggered: the same observed state always gives the same
/// decisions, and once they are carried out, none.
///
/// Caches lag behind the controller's own writes, so it remembers each write until its cache
/// shows that version (`observed…`) or relists (`resynced()`), and judges against the newer of
/// the two. That keeps one change to one write even when events arrive while a write is in flight.
public struct Reconciler: Sendable {
    private struct PendingStatus: Sendable {
        var resourceVersion: String
        var status: InstrumentationPolicyStatus
    }

    private var pendingObjects: [String: NodeInstrumentation] = [:]
    private var pendingDeletes: Set<String> = []
    private var pendingStatuses: [ObjectKey: PendingStatus] = [:]
    /// The last versions the caches delivered, per object: a write whose event arrived before
    /// its outcome was recorded needs no remembering.
    private var observedObjectVersions: [String: [String]] = [:]
    private var observedPolicyVersions: [ObjectKey: [String]] = [:]
    private static let observedVersionsKept = 4
    /// Validation results by spec: a policy is parsed once per change, not once per pass.
    private var validations: [InstrumentationPolicy.Spec: Result<Policy, PolicyRejection>] = [:]

    public init() {}

    /// Writes the remembered but not yet observed.
    public var pendingWrites: Int { pendingObjects.count + pendingDeletes.count + pendingStatuses.count }

    /// The writes to make now. `now` (RFC 3339) stamps condition transitions.
    public mutating func reconcile(_ state: ClusterState, now: String) -> [ControllerAction] {
        var validations = self.validations
        let resolution = PolicyResolution(state) { spec in
            if let known = validations[spec] { return known }
            let result = PolicyValidation.validate(spec)
            validations[spec] = result
            return result
        }
        // Keep only the specs still in use.
        let current = Set(state.policies.map(\.spec))
        self.validations = validations.filter { current.contains($0.key) }
        var existing: [String: NodeInstrumentation] = [:]
        for object in state.nodeInstrumentations {
            guard let name = object.metadata.name else { continue }
            if let pending = pendingObjects[name], pending.metadata.resourceVersion == object.metadata.resourceVersion {
                pendingObjects[name] = nil
            }
            existing[name] = object
        }
        for name in pendingDeletes where existing[name] == nil { pendingDeletes.remove(name) }
        for (name, object) in pendingObjects { existing[name] = object }
        for name in pendingDeletes { existing[name] = nil }

        var policies: [ObjectKey: InstrumentationPolicy] = [:]
        for policy in state.policies { policies[policy.policyKey] = policy }
        for (key, pending) in pendingStatuses where policies[key]?.metadata.resourceVersion == pending.resourceVersion || policies[key] == nil {
            pendingStatuses[key] = nil
        }

        var actions = NodeInstrumentationReconciler.actions(desired: resolution.desired, existing: existing)
        let pending = pendingStatuses
        actions += InstrumentationPolicyReconciler.actions(
            policies: state.policies.sorted { $0.policyKey < $1.policyKey }, resolution: resolution, existing: existing,
            currentStatus: { pending[$0.policyKey]?.status ?? $0.status }, now: now)
        return actions
    }

    /// Records what a write did.
    public mutating func record(_ outcome: WriteOutcome) {
        switch outcome {
        case .applied(let object):
            guard let name = object.metadata.name else { return }
            if let version = object.metadata.resourceVersion, observedObjectVersions[name]?.contains(version) == true { return }
            pendingObjects[name] = object
        case .deleted(let name):
            pendingObjects[name] = nil
            pendingDeletes.insert(name)
        case .statusUpdated(let key, let version, let status):
            if observedPolicyVersions[key]?.contains(version) == true { return }
            pendingStatuses[key] = PendingStatus(resourceVersion: version, status: status)
        case .failed(let action):
            switch action {
            case .applyNodeInstrumentation(let object): pendingObjects[object.metadata.name ?? ""] = nil
            case .deleteNodeInstrumentation(let name): pendingDeletes.remove(name)
            case .updatePolicyStatus(let key, _): pendingStatuses[key] = nil
            }
        }
    }

    /// A cache event for a NodeInstrumentation: once the cache holds the written version the
    /// memory of that write is no longer needed.
    public mutating func observedNodeInstrumentation(name: String, resourceVersion: String?, deleted: Bool) {
        if deleted {
            observedObjectVersions[name] = nil
            pendingDeletes.remove(name)
            if pendingObjects[name]?.metadata.resourceVersion == resourceVersion { pendingObjects[name] = nil }
        } else {
            if let version = resourceVersion { observedObjectVersions[name, default: []].append(version) }
            if observedObjectVersions[name, default: []].count > Self.observedVersionsKept { observedObjectVersions[name]!.removeFirst() }
            if let pending = pendingObjects[name], pending.metadata.resourceVersion == resourceVersion { pendingObjects[name] = nil }
        }
    }

    /// A cache event for a policy.
    public mutating func observedPolicy(_ key: ObjectKey, resourceVersion: String?, deleted: Bool = false) {
        if pendingStatuses[key]?.resourceVersion == resourceVersion { pendingStatuses[key] = nil }
        if deleted {
            observedPolicyVersions[key] = nil
        } else if let version = resourceVersion {
            observedPolicyVersions[key, default: []].append(version)
            if observedPolicyVersions[key]!.count > Self.observedVersionsKept { observedPolicyVersions[key]!.removeFirst() }
        }
    }

    /// A cache relisted: it now holds a state newer than every completed write.
    public mutating func resynced() {
        pendingObjects = [:]
        pendingDeletes = []
        pendingStatuses = [:]
    }
}
