import PeriscopeAPI
import PeriscopeCore

extension NodePlanner {
    /// The planner for what a NodeInstrumentation lists. Each policy's spec is decoded as the
    /// controller decoded it; a policy this agent cannot put in force (a field it does not know,
    /// say, from a newer controller) is left out (its pods are not traced) and named in `rejected`.
    public static func from(_ object: NodeInstrumentation) -> (planner: NodePlanner, rejected: [String: String]) {
        var policies: [String: Policy] = [:]
        var rejected: [String: String] = [:]
        for settings in object.spec.policies {
            do {
                policies[settings.key] = try settings.policy()
            } catch {
                rejected[settings.key] = "\(error)"
            }
        }
        let targets = object.spec.targets.map { target in
            PodTarget(
                uid: target.uid, namespace: target.namespace, name: target.name,
                owner: target.owner.map { PodTarget.Owner(kind: $0.kind, name: $0.name) }, labels: target.labels,
                annotations: target.annotations ?? [:], policy: target.policy,
                containers: target.containers.map { PodTarget.Container(name: $0.name, id: $0.id) })
        }
        let planner = NodePlanner(nodeName: object.spec.nodeName.isEmpty ? object.metadata.name ?? "" : object.spec.nodeName,
                                  targets: targets, policies: policies)
        return (planner, rejected)
    }
}
