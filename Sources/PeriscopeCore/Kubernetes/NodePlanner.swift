/// Turns a node's targets and the processes found in their containers into a `NodePlan`.
///
/// A process is traced when its cgroup names a target container (same container ID and pod
/// UID) and the policy's own selectors select it among the processes of its containers: its
/// `pids` (with descendants) and `executables` when it lists any, minus its `exclude.pids` and
/// `exclude.executables`. Processes it forks later are traced with it (the merged policy names
/// them by pid).
///
/// Each policy in force with processes on the node becomes one policy of the plan, named
/// `namespace/name`, naming them by pid (`executables` and `pids` of the policy are applied here,
/// per pod, so they never select processes outside the policy's own pods), in order of namespace
/// and name; the plan's set says which process follows which policy (`PolicySet.owners`), as
/// matched here, so the agent never works it out again. See `PolicySet` for how they act
/// together. `resourceAttributes` go to each pod's decoration.
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
        // Each policy's processes: those in the containers it is in force for.
        var inContainers: [String: [(ProcessEntry, PodTarget, PodTarget.Container)]] = [:]
        for process in processes {
            guard let cgroup = containers[process.pid], let (target, container) = byContainerID[cgroup.containerID],
                target.uid.lowercased() == cgroup.podUID.lowercased()
            else { continue }
            inContainers[target.policyKey, default: []].append((process, target, container))
        }
        var decorations: [Int32: PodDecoration] = [:]
        var pidsByPolicy: [String: [Int32]] = [:]
        for (key, found) in inContainers {
            guard let policy = policies[key] else { continue }
            // The policy's selectors and exclusions, applied among its own processes only: a
            // policy of one namespace never selects or excludes another namespace's processes.
            let selection = ProcessSelector(policy: policy, agentPID: 0).select(found.map(\.0))
            for (process, target, container) in found where selection.isSelected(pid: process.pid) {
                decorations[process.pid] = PodDecoration(
                    pod: target, containerName: container.name, nodeName: nodeName, resourceAttributes: policy.resourceAttributes)
                pidsByPolicy[key, default: []].append(process.pid)
            }
        }
        var perPolicy: [Policy] = []
        var names: [String] = []
        var owners: [Int32: Int] = [:]
        for key in policies.keys.sorted() {
            guard var policy = policies[key], let pids = pidsByPolicy[key] else { continue }
            // Selection and exclusion by process are done: the plan names the processes.
            policy.executables = []
            policy.exclude.pids = []
            policy.exclude.executables = []
            policy.pids = pids.sorted()
            for pid in pids { owners[pid] = perPolicy.count }
            perPolicy.append(policy)
            names.append(key)
        }
        guard !perPolicy.isEmpty else {
            return NodePlan(policies: PolicySet([Policy(pids: [NodePlan.noProcess])], names: ["none"]), decorations: decorations)
        }
        return NodePlan(policies: PolicySet(perPolicy, names: names, owners: owners), decorations: decorations)
    }
}
