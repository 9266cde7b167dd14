import FoundationEssentials
import Logging
import PeriscopeAPI
import PeriscopeHTTPEndpoint
import PeriscopeKube
import ServiceLifecycle
import Synchronization

/// The controller as a `Service`: caches of policies, pods, nodes, workloads and
/// NodeInstrumentations kept by informers; a Lease campaign; and a work loop that, while this
/// replica leads, runs the `Reconciler` on every batch of cache events and carries out its writes.
/// Followers keep warm caches and write nothing.
public final class InstrumentationController: Service, Sendable {
    public let configuration: ControllerConfiguration
    public let metrics: ControllerMetrics
    private let client: KubeClient
    private let logger: Logger
    private let policies: Informer<InstrumentationPolicy>
    private let pods: Informer<Pod>
    private let nodes: Informer<Node>
    private let replicaSets: Informer<WorkloadObject>
    private let jobs: Informer<WorkloadObject>
    private let nodeInstrumentations: Informer<NodeInstrumentation>
    private let elector: LeaderElector
    private let reconciler = Mutex(Reconciler())
    /// Cache events since the last reconcile started.
    private let queued = Atomic<Int>(0)
    /// Resources whose stream has delivered a complete list.
    private let observedLists = Mutex<Set<String>>([])
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    public init(client: KubeClient, configuration: ControllerConfiguration, metrics: ControllerMetrics = ControllerMetrics(), logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let informer = configuration.informer
        policies = Informer(client: client, resource: .instrumentationPolicies, configuration: informer, logger: logger)
        pods = Informer(client: client, resource: .pods, configuration: informer, logger: logger)
        nodes = Informer(client: client, resource: .nodes, configuration: informer, logger: logger)
        replicaSets = Informer(client: client, resource: .replicaSets, configuration: informer, logger: logger)
        jobs = Informer(client: client, resource: .jobs, configuration: informer, logger: logger)
        nodeInstrumentations = Informer(client: client, resource: .nodeInstrumentations, configuration: informer, logger: logger)
        var election = LeaderElectionConfiguration(
            leaseName: configuration.leaseName, namespace: configuration.leaseNamespace, identity: configuration.identity)
        election.leaseDuration = configuration.leaseDuration
        election.renewDeadline = configuration.renewDeadline
        election.retryPeriod = configuration.retryPeriod
        election.releaseOnShutdown = configuration.releaseLeaseOnShutdown
        elector = LeaderElector(client: client, configuration: election, logger: logger)
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Every cache holds a complete list: what `/readyz` reports.
    public var isReady: Bool {
        policies.hasSynced && pods.hasSynced && nodes.hasSynced && replicaSets.hasSynced && jobs.hasSynced && nodeInstrumentations.hasSynced
    }

    public var isLeader: Bool { elector.isLeader }

    /// Watch restarts per resource, for `/metrics`.
    public var watchRestarts: [String: Int] {
        [
            "instrumentationpolicies": policies.watchRestarts, "pods": pods.watchRestarts, "nodes": nodes.watchRestarts,
            "replicasets": replicaSets.watchRestarts, "jobs": jobs.watchRestarts, "nodeinstrumentations": nodeInstrumentations.watchRestarts,
        ]
    }

    /// `/healthz`, `/readyz` and `/metrics`.
    public func respond(to path: String) -> HealthServer.Response {
        switch path {
        case "/healthz", "/livez":
            return HealthServer.Response(status: "200 OK", body: "ok\n")
        case "/readyz":
            return isReady
                ? HealthServer.Response(status: "200 OK", body: "ok\n")
                : HealthServer.Response(status: "503 Service Unavailable", body: "caches not synced\n")
        case "/metrics":
            return HealthServer.Response(
                status: "200 OK", contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render(watchRestarts: watchRestarts))
        default:
            return HealthServer.Response(status: "404 Not Found", body: "try /healthz, /readyz or /metrics\n")
        }
    }

    public func run() async throws {
        let streams = (
            policies.events(), pods.events(), nodes.events(), replicaSets.events(), jobs.events(), nodeInstrumentations.events(),
            elector.leadership()
        )
        logger.info("controller.starting", metadata: ["identity": "\(configuration.identity)", "lease": "\(configuration.leaseNamespace)/\(configuration.leaseName)"])
        await withDiscardingTaskGroup { group in
            group.addTask { try? await self.policies.run() }
            group.addTask { try? await self.pods.run() }
            group.addTask { try? await self.nodes.run() }
            group.addTask { try? await self.replicaSets.run() }
            group.addTask { try? await self.jobs.run() }
            group.addTask { try? await self.nodeInstrumentations.run() }
            group.addTask { try? await self.elector.run() }
            group.addTask {
                for await event in streams.0 {
                    switch event {
                    case .added(let policy), .updated(_, let policy): self.observe(.policy(policy))
                    case .deleted(let policy): self.observe(.policyDeleted(policy.policyKey))
                    case .synced: self.observe(resynced: "instrumentationpolicies")
                    }
                }
            }
            group.addTask {
                for await event in streams.1 {
                    switch event {
                    case .added(let pod), .updated(_, let pod): self.observe(.pod(pod))
                    case .deleted(let pod): self.observe(.podDeleted(ObjectKey(namespace: pod.metadata.namespace, name: pod.metadata.name ?? "")))
                    case .synced: self.observe(synced: "pods")
                    }
                }
            }
            group.addTask {
                for await event in streams.2 {
                    switch event {
                    case .added(let node), .updated(_, let node): self.observe(.node(node.metadata.name ?? ""))
                    case .deleted(let node): self.observe(.nodeDeleted(node.metadata.name ?? ""))
                    case .synced: self.observe(synced: "nodes")
                    }
                }
            }
            group.addTask { await self.observeWorkloads(streams.3, kind: "ReplicaSet") }
            group.addTask { await self.observeWorkloads(streams.4, kind: "Job") }
            group.addTask {
                for await event in streams.5 {
                    switch event {
                    case .added(let object), .updated(_, let object): self.observe(.nodeInstrumentation(object))
                    case .deleted(let object): self.observe(.nodeInstrumentationDeleted(name: object.metadata.name ?? ""))
                    case .synced: self.observe(resynced: "nodeinstrumentations")
                    }
                }
            }
            group.addTask {
                for await leader in streams.6 {
                    self.metrics.setLeader(leader)
                    // A new leader starts from what the caches say, not from a previous term's writes.
                    self.reconciler.withLock { $0.resynced() }
                    if leader { self.wakeContinuation.yield() }
                }
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await self.resyncTimer() }
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await self.workLoop() }
                self.wakeContinuation.finish()
            }
        }
        logger.info("controller.stopped", metadata: ["identity": "\(configuration.identity)"])
    }

    /// A cache change, taken under the reconciler's lock; the work loop wakes only when the
    /// change may call for a write (the echo of the controller's own writes does not).
    private func observe(_ change: ClusterChange) {
        let wake = reconciler.withLock { reconciler in
            reconciler.observe(change)
            return reconciler.hasWork
        }
        guard wake else { return }
        let depth = queued.add(1, ordering: .relaxed).newValue
        metrics.setQueueDepth(depth)
        wakeContinuation.yield()
    }

    private func observe(resynced resource: String) {
        reconciler.withLock { $0.resynced() }
        logger.debug("controller.cache.resynced", metadata: ["kube.resource": "\(resource)"])
        observe(synced: resource)
    }

    /// A stream delivered a complete list: every object listed has been observed. The first
    /// decision waits for all six, so that it is made once, on the whole cluster.
    private func observe(synced resource: String) {
        observedLists.withLock { _ = $0.insert(resource) }
        wakeContinuation.yield()
    }

    private var everyListObserved: Bool { observedLists.withLock { $0.count } == Self.listedResources }
    private static let listedResources = 6

    private func observeWorkloads(_ events: AsyncStream<InformerEvent<WorkloadObject>>, kind: String) async {
        for await event in events {
            switch event {
            case .added(let object), .updated(_, let object): observe(.workload(WorkloadObject(kind: kind, metadata: object.metadata)))
            case .deleted(let object):
                observe(.workloadDeleted(kind: kind, namespace: object.metadata.namespace ?? "", name: object.metadata.name ?? ""))
            case .synced: observe(synced: kind)
            }
        }
    }

    /// Every `resyncPeriod`: a full resolution compared with the incremental one (counted; a
    /// difference is a bug, logged, and repaired), then every object looked at once more.
    private func resyncTimer() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.resyncPeriod) } catch { return }
            guard isReady else { continue }
            checkConsistency()
        }
    }

    /// Runs the consistency check now; returns the differences found.
    @discardableResult
    func checkConsistency() -> [String] {
        let differences = reconciler.withLock { $0.checkConsistency() }
        metrics.recordConsistencyCheck(differences: differences.count)
        for difference in differences {
            logger.error("controller.consistency.difference", metadata: ["difference": "\(difference)"])
        }
        wakeContinuation.yield()
        return differences
    }

    private func workLoop() async {
        await policies.waitForSync()
        await pods.waitForSync()
        await nodes.waitForSync()
        await replicaSets.waitForSync()
        await jobs.waitForSync()
        await nodeInstrumentations.waitForSync()
        logger.info("controller.caches.synced", metadata: ["identity": "\(configuration.identity)"])
        var backoff = ExponentialBackoff()
        for await _ in wake {
            if Task.isCancelled { return }
            guard elector.isLeader, everyListObserved else { continue }
            queued.store(0, ordering: .relaxed)
            metrics.setQueueDepth(0)
            let failures = await reconcileOnce()
            if failures > 0 {
                let delay = backoff.next()
                logger.warning("controller.reconcile.retrying", metadata: ["failures": "\(failures)", "delay": "\(delay)"])
                do { try await Task.sleep(for: delay) } catch { return }
                wakeContinuation.yield()
            } else {
                backoff.reset()
            }
        }
    }

    /// One pass: decide on what changed since the last, write. Returns how many writes failed.
    /// Decisions and the caches' changes go through the same lock, in order: a decision always
    /// sees every change observed before it, the echoes of earlier writes included.
    func reconcileOnce() async -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        let now = Self.timestamp(Date())
        let actions = reconciler.withLock { $0.decide(now: now) }
        var failures = 0
        if !actions.isEmpty {
            logger.debug("controller.reconcile.writes", metadata: ["writes": "\(actions.count)"])
            failures = await carryOut(actions)
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.recordReconcile(seconds: seconds, failed: failures > 0)
        return failures
    }

    /// Carries out `actions`, `writeConcurrency` at a time (the client waits out a 429's
    /// `Retry-After` before retrying); a long batch, such as the first resolution's, logs its
    /// progress every second.
    private func carryOut(_ actions: [ControllerAction]) async -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        var lastProgress = start
        let progress = actions.count >= Self.progressBatch
        if progress { logger.info("controller.writes.started", metadata: ["writes": "\(actions.count)"]) }
        return await withTaskGroup(of: WriteOutcome.self) { group in
            var failures = 0
            var done = 0
            var next = actions.makeIterator()
            for _ in 0..<max(1, configuration.writeConcurrency) {
                guard let action = next.next() else { break }
                group.addTask { await self.write(action) }
            }
            while let outcome = await group.next() {
                if case .failed = outcome { failures += 1 }
                done += 1
                reconciler.withLock { $0.record(outcome) }
                if let action = next.next() { group.addTask { await self.write(action) } }
                if progress, clock.now - lastProgress >= .seconds(1) || done == actions.count {
                    lastProgress = clock.now
                    logger.info(
                        "controller.writes.progress",
                        metadata: ["done": "\(done)", "writes": "\(actions.count)", "failed": "\(failures)", "elapsed": "\(clock.now - start)"])
                }
            }
            return failures
        }
    }

    /// Batches of at least this many writes log their progress.
    static let progressBatch = 50

    private func write(_ action: ControllerAction) async -> WriteOutcome {
        // A replica that lost the lease mid-pass, or whose shutdown has begun (the work loop is
        // cancelled on SIGTERM), stops writing at once: during an uninstall the objects it would
        // write are being deleted.
        guard !Task.isCancelled, elector.isLeader else { return .failed(action) }
        let manager = configuration.fieldManager
        do {
            switch action {
            case .applyNodeInstrumentation(var object):
                // Never resurrect an object deleted under us. A new object is created (POST, which
                // the API server refuses while the CRD is being deleted); an existing one is applied
                // bound to the UID we know (a 409 if it was deleted meanwhile, where a plain apply
                // would create it again).
                let stored: NodeInstrumentation
                if let known = nodeInstrumentations.object(forKey: object.key), let uid = known.metadata.uid {
                    object.metadata.uid = uid
                    stored = try await client.apply(object, .nodeInstrumentations, fieldManager: manager, force: true)
                } else {
                    stored = try await client.create(object, .nodeInstrumentations, fieldManager: manager)
                }
                metrics.recordWrite("nodeinstrumentation_apply")
                logger.info(
                    "nodeinstrumentation.applied",
                    metadata: ["node": "\(object.spec.nodeName)", "targets": "\(object.spec.targets.count)", "generation": "\(stored.metadata.generation ?? 0)"])
                return .applied(stored)
            case .deleteNodeInstrumentation(let name):
                do {
                    try await client.delete(.nodeInstrumentations, namespace: nil, name: name)
                } catch let error as KubeAPIError where error.code == .notFound {}
                metrics.recordWrite("nodeinstrumentation_delete")
                logger.info("nodeinstrumentation.deleted", metadata: ["node": "\(name)"])
                return .deleted(name: name)
            case .updatePolicyStatus(let key, let status):
                let patch: JSONValue = ["status": try JSONValue(encoding: status)]
                let stored = try await client.patch(
                    InstrumentationPolicy.self, .instrumentationPolicies, namespace: key.namespace, name: key.name, patch: patch, as: .merge,
                    subresource: "status", fieldManager: manager)
                metrics.recordWrite("policy_status")
                logger.info(
                    "policy.status.updated",
                    metadata: [
                        "policy": "\(key)", "accepted": "\(status.condition(InstrumentationPolicyReconciler.accepted)?.reason ?? "")",
                        "ready": "\(status.condition(InstrumentationPolicyReconciler.ready)?.reason ?? "")",
                        "matched_pods": "\(status.matchedPods ?? 0)",
                    ])
                return .statusUpdated(key, resourceVersion: stored.metadata.resourceVersion ?? "", status)
            }
        } catch let error as KubeAPIError where error.code == .notFound {
            // The policy went away meanwhile; its deletion event triggers the next pass.
            return .failed(action)
        } catch {
            logger.warning("controller.write.failed", metadata: ["action": "\(Self.describe(action))", "error": "\(error)"])
            return .failed(action)
        }
    }

    static func describe(_ action: ControllerAction) -> String {
        switch action {
        case .applyNodeInstrumentation(let object): "apply nodeinstrumentation/\(object.metadata.name ?? "")"
        case .deleteNodeInstrumentation(let name): "delete nodeinstrumentation/\(name)"
        case .updatePolicyStatus(let key, _): "status instrumentationpolicy/\(key)"
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
