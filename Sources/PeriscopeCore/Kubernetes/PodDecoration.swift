/// The OpenTelemetry resource attributes of a process running in a traced pod's container.
///
/// - `k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.container.name`, `k8s.node.name`;
/// - the owning workload as `k8s.deployment.name`, `k8s.statefulset.name`, `k8s.daemonset.name`,
///   `k8s.replicaset.name`, `k8s.job.name` or `k8s.cronjob.name`, from the owner the controller
///   resolved (never guessed from the pod's name);
/// - `service.name`: the pod's `resource.opentelemetry.io/service.name` annotation, else its
///   `app.kubernetes.io/name` label, else the owner's name, else a `service.name` among the
///   policy's `resourceAttributes`, else the pod's name. A process's own `OTEL_SERVICE_NAME`
///   still wins over all of these (`TelemetryResource.process`);
/// - `service.namespace`: the `resource.opentelemetry.io/service.namespace` annotation, else
///   the pod's namespace;
/// - every other `resource.opentelemetry.io/<key>` annotation as `<key>`, then the policy's
///   `resourceAttributes`; neither overrides the keys above.
public struct PodDecoration: Sendable, Hashable {
    public static let annotationPrefix = "resource.opentelemetry.io/"
    static let ownerAttributes = [
        "Deployment": "k8s.deployment.name", "StatefulSet": "k8s.statefulset.name", "DaemonSet": "k8s.daemonset.name",
        "ReplicaSet": "k8s.replicaset.name", "Job": "k8s.job.name", "CronJob": "k8s.cronjob.name",
    ]

    public var attributes: [String: String]

    /// `namespace/name` of the pod, when known.
    public var qualifiedName: String? {
        guard let name = attributes["k8s.pod.name"] else { return nil }
        return attributes["k8s.namespace.name"].map { "\($0)/\(name)" } ?? name
    }

    public init(attributes: [String: String]) {
        self.attributes = attributes
    }

    public init(pod: PodTarget, containerName: String, nodeName: String, resourceAttributes: [String: String] = [:]) {
        var attributes = [
            "k8s.namespace.name": pod.namespace,
            "k8s.pod.name": pod.name,
            "k8s.pod.uid": pod.uid,
            "k8s.container.name": containerName,
            "k8s.node.name": nodeName,
        ]
        if let owner = pod.owner, let key = Self.ownerAttributes[owner.kind] {
            attributes[key] = owner.name
        }
        let service = [
            pod.annotations[Self.annotationPrefix + "service.name"],
            pod.labels["app.kubernetes.io/name"],
            pod.owner?.name,
            resourceAttributes["service.name"],
        ].lazy.compactMap { $0 }.first { !$0.isEmpty } ?? pod.name
        attributes["service.name"] = service
        attributes["service.namespace"] = pod.annotations[Self.annotationPrefix + "service.namespace"].flatMap { $0.isEmpty ? nil : $0 }
            ?? pod.namespace
        for (key, value) in pod.annotations where key.hasPrefix(Self.annotationPrefix) {
            let attribute = String(key.dropFirst(Self.annotationPrefix.count))
            if !attribute.isEmpty, attributes[attribute] == nil { attributes[attribute] = value }
        }
        for (key, value) in resourceAttributes where attributes[key] == nil {
            attributes[key] = value
        }
        self.attributes = attributes
    }

    /// `service.name`.
    public var serviceName: String? { attributes["service.name"] }
}
