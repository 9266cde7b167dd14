import FoundationEssentials
import Logging
import PeriscopeAgent
import PeriscopeAPI
import PeriscopeCore
import PeriscopeKube
import PeriscopeSystem
import ServiceLifecycle

/// The agent's Kubernetes mode: follows this node's NodeInstrumentation (and nothing else),
/// finds the processes of its target containers through their cgroups, hands the capture
/// thread the resulting policies, the exports each policy's telemetry and the span resources
/// their pod attributes, and reports on the object's status. Runs next to the `Agent` service; nothing restarts when the spec changes.
public final class NodeAgent: Service, Sendable {
    private let configuration: NodeAgentConfiguration
    private let client: KubeClient
    private let control: AgentControl
    private let telemetry: Telemetry
    private let procfs: ProcFS
    private let informer: Informer<NodeInstrumentation>
    private let logger: Logger

    public init(
        configuration: NodeAgentConfiguration, client: KubeClient, control: AgentControl, telemetry: Telemetry,
        procfs: ProcFS = ProcFS(), logger: Logger
    ) {
        self.configuration = configuration
        self.client = client
        self.control = control
        self.telemetry = telemetry
        self.procfs = procfs
        self.logger = logger
        informer = Informer(
            client: client, resource: .nodeInstrumentations,
            fieldSelector: FieldSelector([.init(field: "metadata.name", value: configuration.nodeName)]), logger: logger)
    }

    public func run() async throws {
        logger.info("node.following", metadata: ["node": "\(configuration.nodeName)"])
        await withDiscardingTaskGroup { group in
            group.addTask { await cancelWhenGracefulShutdown { try? await self.informer.run() } }
            group.addTask { await cancelWhenGracefulShutdown { await self.loop() } }
        }
    }

    private func loop() async {
        var revision = 0
        var lastPlan: NodePlan?
        var lastCounterWrite = ContinuousClock.now
        // Policies are decoded once per version of the object, not once per scan.
        var decoded: (version: String?, planner: NodePlanner, rejected: [String: String])?
        while !Task.isCancelled {
            let object = informer.objects.first { $0.metadata.name == configuration.nodeName }
            if decoded == nil || decoded?.version != object?.metadata.resourceVersion {
                let (planner, rejected) = object.map(NodePlanner.from)
                    ?? (NodePlanner(nodeName: configuration.nodeName, targets: [], policies: [:]), [:])
                decoded = (object?.metadata.resourceVersion, planner, rejected)
            }
            let (planner, rejected) = (decoded!.planner, decoded!.rejected)
            // /proc is read on a thread of its own, never on the cooperative pool.
            let procfs = self.procfs
            let plan = await BlockingPool.shared.run { () -> NodePlan in
                let processes = procfs.processes()
                return planner.plan(processes: processes, containers: procfs.containers(of: processes))
            }
            if plan != lastPlan {
                revision += 1
                telemetry.resources.setDecorations(plan.decorations)
                telemetry.apply(plan.policies)
                control.submit(policies: plan.policies, revision: revision)
                logger.info("node.plan", metadata: [
                    "node": "\(configuration.nodeName)", "generation": "\(object?.metadata.generation ?? 0)",
                    "processes": "\(plan.processCount)", "policies": "\(planner.policies.count)",
                ])
                lastPlan = plan
            }
            if let object, control.appliedPolicyRevision >= revision {
                let report = NodeStatusReport(
                    object: object, rejected: rejected, processesAttached: plan.processCount,
                    eventsDropped: control.metrics.eventsLost,
                    requestsShed: control.metrics.connectionsShed + control.metrics.requestsShed, kernelFeatures: control.kernelFeatures,
                    propagation: control.kernelFeatures.contains("sk_msg") ? control.metrics.propagationStatus : nil,
                    tls: control.kernelFeatures.contains("uprobe_multi") ? control.tlsStatus.nodeStatus : nil,
                    time: Date().formatted(.iso8601))
                let countersDue = ContinuousClock.now - lastCounterWrite >= configuration.counterRefreshInterval
                if report.needsWrite(current: object.status, countersDue: countersDue) {
                    await write(report.status, to: object)
                    lastCounterWrite = .now
                }
            }
            try? await Task.sleep(for: configuration.scanInterval)
        }
    }

    private func write(_ status: NodeInstrumentation.Status, to object: NodeInstrumentation) async {
        var updated = object
        updated.status = status
        do {
            _ = try await client.updateStatus(updated, .nodeInstrumentations, fieldManager: configuration.fieldManager)
            logger.debug("node.status.written", metadata: [
                "node": "\(configuration.nodeName)", "generation": "\(status.observedGeneration ?? 0)",
                "processes": "\(status.processesAttached ?? 0)",
            ])
        } catch {
            // A conflict means the cache is behind; the next pass writes against the newer object.
            logger.notice("node.status.write.failed", metadata: ["node": "\(configuration.nodeName)", "error": "\(error)"])
        }
    }
}
