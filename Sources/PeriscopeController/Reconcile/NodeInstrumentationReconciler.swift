import PeriscopeAPI
import PeriscopeKube

/// Reconciles NodeInstrumentation objects: one per existing node, holding exactly the
/// resolution's spec. Writes only what differs; deletes the objects of nodes that are gone.
public enum NodeInstrumentationReconciler {
    /// Label on every NodeInstrumentation the controller writes.
    public static let managedByLabel = ("app.kubernetes.io/managed-by", "periscope-controller")

    public static func actions(desired: [String: NodeInstrumentation.Spec], existing: [String: NodeInstrumentation]) -> [ControllerAction] {
        var actions: [ControllerAction] = []
        for (name, spec) in desired.sorted(by: { $0.key < $1.key }) where existing[name]?.spec != spec {
            var metadata = ObjectMeta(name: name)
            metadata.labels = [managedByLabel.0: managedByLabel.1]
            actions.append(.applyNodeInstrumentation(NodeInstrumentation(metadata: metadata, spec: spec)))
        }
        for name in existing.keys.sorted() where desired[name] == nil {
            actions.append(.deleteNodeInstrumentation(name: name))
        }
        return actions
    }
}
