import PeriscopeAPI

/// What `periscopectl status` prints: every policy with its matched pods and nodes applied,
/// every node's agent with its health, drops and attached processes.
public struct StatusReport: Sendable, Hashable {
    public struct PolicyRow: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var matchedPods: Int
        public var nodesApplied: Int
        public var nodesDesired: Int
        /// The Ready condition's status (`True`, `False`, `Unknown`).
        public var ready: String
        /// The reason of Ready, or of Accepted when the policy was rejected.
        public var reason: String
    }

    public struct AgentRow: Sendable, Hashable {
        public enum Health: String, Sendable { case healthy = "Healthy", pending = "Pending", failing = "Failing" }
        public var node: String
        public var health: Health
        public var processesAttached: Int64
        public var eventsDropped: Int64
        public var lastError: String?
    }

    public var policies: [PolicyRow]
    public var agents: [AgentRow]

    public init(policies: [InstrumentationPolicy], nodes: [NodeInstrumentation]) {
        self.policies = policies.map { policy in
            let status = policy.status
            let accepted = status?.condition("Accepted")
            let ready = status?.condition("Ready")
            let reason = accepted?.status == "False" ? accepted!.reason : ready?.reason ?? "Pending"
            return PolicyRow(
                namespace: policy.metadata.namespace ?? "", name: policy.metadata.name ?? "", matchedPods: status?.matchedPods ?? 0,
                nodesApplied: status?.nodes?.applied ?? 0, nodesDesired: status?.nodes?.desired ?? 0,
                ready: ready?.status ?? "Unknown", reason: reason)
        }.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.agents = nodes.map { node in
            let health: AgentRow.Health = node.status?.lastError != nil ? .failing : node.isApplied ? .healthy : .pending
            return AgentRow(
                node: node.metadata.name ?? "", health: health, processesAttached: node.status?.processesAttached ?? 0,
                eventsDropped: node.status?.eventsDropped ?? 0, lastError: node.status?.lastError?.message)
        }.sorted { $0.node < $1.node }
    }

    /// Every policy Ready and every agent healthy.
    public var isHealthy: Bool {
        policies.allSatisfy { $0.ready == "True" } && agents.allSatisfy { $0.health == .healthy }
    }

    /// Two aligned tables.
    public var text: String {
        var out = "POLICIES\n"
        if policies.isEmpty {
            out += "  (none: periscopectl instrument namespace NS)\n"
        } else {
            out += Self.table(
                ["NAMESPACE", "NAME", "PODS", "NODES", "READY", "REASON"],
                policies.map { [$0.namespace, $0.name, "\($0.matchedPods)", "\($0.nodesApplied)/\($0.nodesDesired)", $0.ready, $0.reason] })
        }
        out += "\nAGENTS\n"
        if agents.isEmpty {
            out += "  (none: no node runs a traced pod)\n"
        } else {
            out += Self.table(
                ["NODE", "HEALTH", "PROCESSES", "DROPS", "ERROR"],
                agents.map { [$0.node, $0.health.rawValue, "\($0.processesAttached)", "\($0.eventsDropped)", $0.lastError ?? ""] })
        }
        return out
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            var line = "  "
            for (column, cell) in row.enumerated() {
                line += column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }
            while line.last == " " { line.removeLast() }
            return line + "\n"
        }.joined()
    }
}
