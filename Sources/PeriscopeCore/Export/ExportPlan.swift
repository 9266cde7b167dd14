/// Where telemetry goes, worked out from the policies in force: the OTLP exports to keep open
/// and, for each policy, which of them receive the spans and metrics of its processes.
///
/// - The agent's own export (`ExportConfiguration.otlp`, from the environment) receives
///   everything, and the agent's health metrics.
/// - A policy's `export.otlp.endpoint` receives the spans and metrics of the processes that
///   follow that policy, and nothing of any other: in a cluster, one namespace's telemetry never
///   reaches another namespace's receiver, whichever policy comes first on the node.
/// - Telemetry of a process no one policy claims goes to the agent's own export only.
/// - With `policyExportsGetAgentHealth` (a standalone agent, whose policy file is its
///   operator's), policy exports also receive the agent's health metrics.
///
/// Exports are identified by their endpoints: policies naming the same receiver share it, and
/// a receiver that is also the agent's own gets each span once.
public struct ExportPlan: Sendable, Equatable {
    /// Every export to keep open, the agent's own first when there is one.
    public private(set) var exports: [ExportConfiguration.OTLP] = []
    /// Index in `exports` of the agent's own export.
    public private(set) var own: Int?
    /// Index in `exports` of each policy's export.
    public private(set) var byPolicy: [PolicyID: Int] = [:]
    /// Exports that receive the agent's health metrics.
    public private(set) var agentHealth: Set<Int> = []
    /// Each policy's `resourceAttributes`, for the resource of its processes.
    public private(set) var resourceAttributes: [PolicyID: [String: String]] = [:]

    public init(policies: PolicySet, configuration: ExportConfiguration, policyExportsGetAgentHealth: Bool) {
        func index(of export: ExportConfiguration.OTLP) -> Int {
            if let found = exports.firstIndex(where: { $0.tracesEndpoint == export.tracesEndpoint && $0.metricsEndpoint == export.metricsEndpoint }) {
                return found
            }
            exports.append(export)
            return exports.count - 1
        }
        if let export = configuration.otlp {
            own = index(of: export)
            agentHealth.insert(own!)
        }
        for (id, policy) in zip(policies.ids, policies.policies) {
            resourceAttributes[id] = policy.resourceAttributes.isEmpty ? nil : policy.resourceAttributes
            guard let endpoint = policy.export.otlp?.endpoint else { continue }
            let destination = index(of: configuration.export(toPolicyEndpoint: endpoint))
            byPolicy[id] = destination
            if policyExportsGetAgentHealth { agentHealth.insert(destination) }
        }
    }

    /// The export that receives all telemetry and is the only one: the agent's own, when no
    /// policy names another receiver. Nil otherwise.
    public var soleExport: Int? { exports.count == 1 && own == 0 ? 0 : nil }

    /// The exports that receive telemetry of a process following `policy` (nil: none in
    /// particular), each once.
    public func destinations(for policy: PolicyID?) -> [Int] {
        var found: [Int] = own.map { [$0] } ?? []
        if let policy, let destination = byPolicy[policy], destination != own { found.append(destination) }
        return found
    }

    /// The identity of an export: where it sends.
    public static func key(of export: ExportConfiguration.OTLP) -> String {
        export.tracesEndpoint + " " + export.metricsEndpoint
    }
}
