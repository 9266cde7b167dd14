import PeriscopeAPI
import PeriscopeAgent

/// What the agent reports on its NodeInstrumentation, and when a write is due (pure).
public struct NodeStatusReport: Sendable, Hashable {
    public var status: NodeInstrumentation.Status

    /// - Parameters:
    ///   - object: the NodeInstrumentation whose spec is in force.
    ///   - rejected: policies left out, by `namespace/name`, with why.
    public init(
        object: NodeInstrumentation, rejected: [String: String], processesAttached: Int, eventsDropped: UInt64,
        requestsShed: UInt64 = 0, kernelFeatures: [String], propagation: NodeInstrumentation.PropagationStatus? = nil,
        tls: NodeInstrumentation.TLSStatus? = nil, time: String
    ) {
        let applied = object.spec.policies.filter { rejected["\($0.namespace)/\($0.name)"] == nil }
        let error = rejected.isEmpty ? nil : NodeInstrumentation.LastError(
            message: rejected.sorted { $0.key < $1.key }.map { "policy \($0.key) not applied: \($0.value)" }.joined(separator: "; "),
            time: time)
        status = NodeInstrumentation.Status(
            observedGeneration: object.metadata.generation,
            policies: applied.map { .init(namespace: $0.namespace, name: $0.name, generation: $0.generation) },
            processesAttached: Int64(processesAttached), eventsDropped: Int64(clamping: eventsDropped),
            requestsShed: Int64(clamping: requestsShed), kernelFeatures: kernelFeatures,
            propagation: propagation, tls: tls, lastError: error)
    }

    /// Whether to write now, given what the object carries: at once when anything but the
    /// counters differs, else when counters differ and `countersDue`. What the TLS probes hold
    /// moves with processes coming and going: it is written with the counters.
    public func needsWrite(current: NodeInstrumentation.Status?, countersDue: Bool) -> Bool {
        guard var current else { return true }
        var mine = status
        if let error = current.lastError, let new = mine.lastError, error.message == new.message { mine.lastError = error }
        if current == mine { return false }
        current.processesAttached = mine.processesAttached
        current.eventsDropped = mine.eventsDropped
        current.requestsShed = mine.requestsShed
        current.propagation = mine.propagation
        current.tls = mine.tls
        return current != mine || countersDue
    }
}

extension AgentMetrics {
    /// The propagation counters as the node status reports them.
    var propagationStatus: NodeInstrumentation.PropagationStatus {
        NodeInstrumentation.PropagationStatus(
            headersInjected: Int64(clamping: propagationHeadersInjected),
            optionsWritten: Int64(clamping: propagationOptionsWritten),
            requestsUntouched: [
                "carryingTraceparent": Int64(clamping: propagationUntouchedCarryingTraceparent),
                "splitHead": Int64(clamping: propagationUntouchedSplitHead),
                "pipelined": Int64(clamping: propagationUntouchedPipelined),
                "noRoom": Int64(clamping: propagationUntouchedNoRoom),
            ]
        )
    }
}

extension TLSProbeStatus {
    /// What the TLS probes hold, as the node status reports it.
    var nodeStatus: NodeInstrumentation.TLSStatus {
        NodeInstrumentation.TLSStatus(
            files: files.map { .init(path: $0.path, library: $0.library, processes: Int64($0.processes)) },
            processesProbed: Int64(processesProbed),
            processesRefused: refusalsByCode.mapValues { Int64($0) },
            refusals: refusals.prefix(NodeInstrumentation.TLSStatus.maxRefusalsListed).map { .init(pid: Int64($0.pid), reason: $0.reason) }
        )
    }
}
