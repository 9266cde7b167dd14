import PeriscopeAPI
import PeriscopeKube

/// What the controller observed: the objects its caches hold, as values.
public struct ClusterState: Sendable {
    public var policies: [InstrumentationPolicy]
    public var pods: [Pod]
    public var nodes: [Node]
    /// ReplicaSets and Jobs, to resolve pod owners.
    public var workloads: [WorkloadObject]
    public var nodeInstrumentations: [NodeInstrumentation]

    public init(
        policies: [InstrumentationPolicy] = [], pods: [Pod] = [], nodes: [Node] = [], workloads: [WorkloadObject] = [],
        nodeInstrumentations: [NodeInstrumentation] = []
    ) {
        self.policies = policies
        self.pods = pods
        self.nodes = nodes
        self.workloads = workloads
        self.nodeInstrumentations = nodeInstrumentations
    }
}
