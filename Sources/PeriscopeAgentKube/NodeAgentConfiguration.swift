/// Settings of the agent's Kubernetes mode.
public struct NodeAgentConfiguration: Sendable {
    /// The node this agent runs on; it follows the NodeInstrumentation of that name only.
    /// `--node-name`, `NODE_NAME` (from the downward API). Required.
    public var nodeName: String
    /// How often `/proc` is scanned for processes entering or leaving target containers.
    /// Default 250 ms, so a new process is traced well within a second.
    public var scanInterval: Duration = .milliseconds(250)
    /// Least time between two status writes that only refresh counters (drops, processes).
    /// Changes of generation, policies, features or error are written at once. Default 10 s.
    public var counterRefreshInterval: Duration = .seconds(10)
    /// Field manager of status writes. Default `periscope-agent`.
    public var fieldManager = "periscope-agent"

    public init(nodeName: String) {
        self.nodeName = nodeName
    }

    /// From `--node-name` or, without it, `NODE_NAME`; nil when neither is set.
    public static func resolve(nodeName: String?, environment: [String: String]) -> NodeAgentConfiguration? {
        guard let name = nodeName ?? environment["NODE_NAME"], !name.isEmpty else { return nil }
        return NodeAgentConfiguration(nodeName: name)
    }
}
