import PeriscopeAPI
import PeriscopeCore

extension NodePlanner {
    /// The planner for what a NodeInstrumentation lists. Each policy's settings are validated
    /// again as the controller validated them; a policy this agent cannot put in force is left
    /// out (its pods are not traced) and named in `rejected`.
    public static func from(_ object: NodeInstrumentation) -> (planner: NodePlanner, rejected: [String: String]) {
        var policies: [String: Policy] = [:]
        var rejected: [String: String] = [:]
        for settings in object.spec.policies {
            let key = "\(settings.namespace)/\(settings.name)"
            switch PolicyValidation.validate(settings.spec) {
            case .success(let policy): policies[key] = policy
            case .failure(let rejection): rejected[key] = "\(rejection)"
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

extension NodeInstrumentation.PolicySettings {
    /// The settings as an InstrumentationPolicy spec (selectors aside), to validate and parse.
    var spec: InstrumentationPolicy.Spec {
        InstrumentationPolicy.Spec(
            ports: ports, executables: executables, pids: pids, protocols: protocols, routes: routes, sampling: sampling,
            exclude: exclude, capture: capture, export: export, resourceAttributes: resourceAttributes)
    }
}
