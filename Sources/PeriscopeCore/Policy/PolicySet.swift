/// The policies one agent has in force, highest precedence first: the documents of a
/// standalone policy file in file order, or a node's policies in a cluster.
///
/// The kernel filter takes one policy, `merged`: processes selected by any policy (every
/// process when one selects by port only), ports the union (all ports when any policy has
/// none), protocols the union, excludes and routes concatenated (an exclusion applies to every
/// policy), the largest payload size, query strings kept when any policy keeps them, resource
/// attributes combined (the first policy wins a key), and the sampler and export of the first
/// policy. Each process's spans follow the first policy that selects it (decoders, routes,
/// route exclusions, queries, sampler: see `PolicyAssignment`), others `merged`; export is
/// one for the agent, the first policy's.
public struct PolicySet: Sendable, Equatable {
    /// Never empty.
    public let policies: [Policy]
    public let merged: Policy

    /// - Parameter policies: highest precedence first; none means one default policy.
    public init(_ policies: [Policy]) {
        self.policies = policies.isEmpty ? [Policy()] : policies
        merged = Self.merge(self.policies)
    }

    public init(_ policy: Policy) {
        self.init([policy])
    }

    static func merge(_ policies: [Policy]) -> Policy {
        let first = policies[0]
        var merged = Policy(
            ports: first.ports, protocols: first.protocols, sampler: first.sampler, capture: first.capture, export: first.export)
        var allPorts = false
        var allProcesses = false
        var ranges: [ClosedRange<UInt16>] = []
        for policy in policies {
            allPorts = allPorts || policy.ports.isEmpty
            ranges += policy.ports.ranges
            allProcesses = allProcesses || (policy.pids.isEmpty && policy.executables.isEmpty)
            merged.pids += policy.pids.filter { !merged.pids.contains($0) }
            merged.executables += policy.executables.filter { !merged.executables.contains($0) }
            merged.protocols.formUnion(policy.protocols)
            merged.exclude.pids += policy.exclude.pids.filter { !merged.exclude.pids.contains($0) }
            merged.exclude.executables += policy.exclude.executables.filter { !merged.exclude.executables.contains($0) }
            merged.exclude.routes += policy.exclude.routes.filter { !merged.exclude.routes.contains($0) }
            merged.routes += policy.routes.filter { !merged.routes.contains($0) }
            merged.capture.payloadBytes = max(merged.capture.payloadBytes, policy.capture.payloadBytes)
            merged.capture.keepQuery = merged.capture.keepQuery || policy.capture.keepQuery
            merged.capture.keepQueryValues = merged.capture.keepQueryValues || policy.capture.keepQueryValues
            merged.resourceAttributes.merge(policy.resourceAttributes) { kept, _ in kept }
        }
        merged.ports = allPorts ? PortSet() : PortSet(ranges)
        if allProcesses {
            merged.pids = []
            merged.executables = []
        }
        return merged
    }
}
