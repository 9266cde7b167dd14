import PeriscopeKube

extension KubeResourceType {
    /// `instrumentationpolicies.periscope.dev`: namespaced, written by operators.
    public static let instrumentationPolicies = KubeResourceType(
        group: "periscope.dev", version: "v1alpha1", plural: "instrumentationpolicies", kind: "InstrumentationPolicy", namespaced: true)
    /// `nodeinstrumentations.periscope.dev`: cluster-scoped, one per node.
    public static let nodeInstrumentations = KubeResourceType(
        group: "periscope.dev", version: "v1alpha1", plural: "nodeinstrumentations", kind: "NodeInstrumentation", namespaced: false)
}
