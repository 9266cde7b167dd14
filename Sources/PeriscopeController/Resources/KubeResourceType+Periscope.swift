import PeriscopeKube

extension KubeResourceType {
    /// `nodeinstrumentations.periscope.dev`: cluster-scoped, one per node.
    public static let nodeInstrumentations = KubeResourceType(
        group: "periscope.dev", version: "v1alpha1", plural: "nodeinstrumentations", kind: "NodeInstrumentation", namespaced: false)
    /// `replicasets.apps`: read to resolve a pod's owner up to its Deployment.
    public static let replicaSets = KubeResourceType(group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true)
    /// `jobs.batch`: read to resolve a pod's owner up to its CronJob.
    public static let jobs = KubeResourceType(group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true)
}
