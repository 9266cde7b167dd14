/// The policies one agent has in force, highest precedence first: the documents of a
/// standalone policy file in file order, or a node's policies in a cluster, each with its name
/// and identity.
///
/// The kernel filter takes one policy, `merged`: processes selected by any policy (every
/// process when one selects by port only), ports the union (all ports when any policy has
/// none), protocols the union, excludes and routes concatenated (an exclusion applies to every
/// policy), the largest payload size, query strings kept when any policy keeps them, resource
/// attributes combined (the first policy wins a key), and the sampler and export of the first
/// policy. Each process's spans follow the first policy that selects it (decoders, routes,
/// route exclusions, queries, sampler: see `PolicyAssignment`), others `merged`. A span's
/// export and resource attributes are its policy's (`id(ofOwner:)`).
public struct PolicySet: Sendable, Equatable {
    /// Never empty.
    public let policies: [Policy]
    /// The name of each policy, in the same order: `namespace/name` in a cluster.
    public let names: [String]
    /// The identity of each policy, from its name.
    public let ids: [PolicyID]
    public let merged: Policy
    /// Which processes follow which policy (pid → index), when something that knows decided it:
    /// the node plan, from the containers each policy is in force for. Nil when each policy's own
    /// selectors decide (a policy file). See `PolicyAssignment`.
    public let owners: [Int32: Int]?

    /// - Parameters:
    ///   - policies: highest precedence first; none means one default policy.
    ///   - names: one per policy; by default `document-1`, `document-2`, ….
    ///   - owners: pid → index of the policy the process follows, when already decided.
    public init(_ policies: [Policy], names: [String]? = nil, owners: [Int32: Int]? = nil) {
        let policies = policies.isEmpty ? [Policy()] : policies
        let names = names.flatMap { $0.count == policies.count ? $0 : nil } ?? policies.indices.map { "document-\($0 + 1)" }
        self.policies = policies
        self.names = names
        ids = names.map(PolicyID.init(name:))
        merged = Self.merge(policies)
        self.owners = owners?.filter { policies.indices.contains($0.value) }
    }

    public init(_ policy: Policy, name: String = "document-1") {
        self.init([policy], names: [name])
    }

    /// The identity spans of a process get from the index of the policy it follows (nil for the
    /// merged policy): that policy's, or with a single policy in force, the only one's. Nil
    /// when no one policy is the process's: its spans go to the agent's own export only.
    public func id(ofOwner owner: Int?) -> PolicyID? {
        if let owner { return ids.indices.contains(owner) ? ids[owner] : nil }
        return ids.count == 1 ? ids[0] : nil
    }

    /// The policy with identity `id`, if in force.
    public func policy(_ id: PolicyID) -> Policy? {
        ids.firstIndex(of: id).map { policies[$0] }
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
        // Processes no single policy claims propagate unless every policy says none.
        merged.propagation = policies.contains { $0.propagation != .none } ? .auto : .none
        if allProcesses {
            merged.pids = []
            merged.executables = []
        }
        return merged
    }
}
