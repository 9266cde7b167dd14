/// Turns a node's targets and the processes found in their containers into a `NodePlan`.
///
/// A process is traced when its cgroup names a target container (same container ID and pod
/// UID) and, if the pod's policy lists `executables`, its executable matches one. Processes it
/// forks later are traced with it (the merged policy names them by pid).
///
/// The kernel filter and the span pipeline take one policy, so the policies in force are merged:
/// ports are the union (all ports when any policy has none), protocols the union, excludes and
/// routes concatenated, the largest payload size, query strings kept when any policy keeps them,
/// and the sampler and export of the first policy by namespace and name. `executables` and
/// `pids` of the policies are applied here, per pod, so they never select processes outside
/// the policy's own pods; `resourceAttributes` go to each pod's decoration.
public struct NodePlanner: Sendable {
    public var nodeName: String
    public var targets: [PodTarget]
    /// Policies in force on the node by `namespace/name`.
    public var policies: [String: Policy]

    public init(nodeName: String, targets: [PodTarget], policies: [String: Policy]) {
        self.nodeName = nodeName
        self.targets = targets
        self.policies = policies
    }

    /// - Parameters:
    ///   - processes: every process on the node.
    ///   - containers: the pod and container of each process that is in one (from its cgroup).
    public func plan(processes: [ProcessEntry], containers: [Int32: CgroupContainer]) -> NodePlan {
        var byContainerID: [String: (PodTarget, PodTarget.Container)] = [:]
        for target in targets where policies[target.policyKey] != nil {
            for container in target.containers {
                guard let id = CgroupContainer.normalizedID(container.id) else { continue }
                byContainerID[id] = (target, container)
            }
        }
        var decorations: [Int32: PodDecoration] = [:]
        for process in processes {
            guard let cgroup = containers[process.pid], let (target, container) = byContainerID[cgroup.containerID],
                target.uid.lowercased() == cgroup.podUID.lowercased(), let policy = policies[target.policyKey]
            else { continue }
            if !policy.executables.isEmpty, !ProcessSelection.matches(process, policy.executables) { continue }
            decorations[process.pid] = PodDecoration(
                pod: target, containerName: container.name, nodeName: nodeName, resourceAttributes: policy.resourceAttributes)
        }
        var merged = Self.merge(policies.keys.sorted().compactMap { policies[$0] })
        merged.pids = decorations.isEmpty ? [NodePlan.noProcess] : decorations.keys.sorted()
        return NodePlan(policy: merged, decorations: decorations)
    }

    /// The policies as one, as described on the type; `Policy()` narrowed to nothing when empty.
    public static func merge(_ policies: [Policy]) -> Policy {
        guard let first = policies.first else { return Policy(pids: [NodePlan.noProcess]) }
        var merged = Policy(
            ports: first.ports, protocols: first.protocols, sampler: first.sampler, capture: first.capture, export: first.export)
        var allPorts = first.ports.isEmpty
        var ranges = first.ports.ranges
        for policy in policies {
            allPorts = allPorts || policy.ports.isEmpty
            ranges += policy.ports.ranges
            merged.protocols.formUnion(policy.protocols)
            merged.exclude.pids += policy.exclude.pids.filter { !merged.exclude.pids.contains($0) }
            merged.exclude.executables += policy.exclude.executables.filter { !merged.exclude.executables.contains($0) }
            merged.exclude.routes += policy.exclude.routes.filter { !merged.exclude.routes.contains($0) }
            merged.routes += policy.routes.filter { !merged.routes.contains($0) }
            merged.capture.payloadBytes = max(merged.capture.payloadBytes, policy.capture.payloadBytes)
            merged.capture.keepQuery = merged.capture.keepQuery || policy.capture.keepQuery
        }
        merged.ports = allPorts ? PortSet() : PortSet(ranges)
        return merged
    }
}
