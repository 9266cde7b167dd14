import Logging
import ServiceLifecycle
import Synchronization

/// Settings of an informer.
public struct InformerConfiguration: Sendable {
    /// Page size of lists. Default 500.
    public var pageSize: Int = 500
    /// Server-side watch timeout: each watch asks for a random duration in [minimum, 2 × minimum).
    /// Default 5 minutes, as client-go.
    public var minimumWatchTimeout: Duration = .seconds(300)
    /// Backoff after failed lists and dropped watches.
    public var backoff: ExponentialBackoff = ExponentialBackoff()
    /// The longest wait after a failure because the server was unavailable (connection refused
    /// or reset, 503). Default 4 s.
    public var unavailableBackoffCap: Duration = .seconds(4)
    /// While waiting for an unavailable server, how often its `/readyz` is asked; the wait ends
    /// when it answers 200. Default 1 s.
    public var readinessProbeInterval: Duration = .seconds(1)

    public init() {}
}

/// A cache of one resource kept current by list-then-watch, with an event stream for the
/// controller and the agent. Run it as a `Service`; `synced` turns true after the first list.
public final class Informer<Object: KubeObject>: Service, Sendable {
    private struct State {
        var store = InformerStore<Object>()
        var synced = false
        var subscribers: [Int: AsyncStream<InformerEvent<Object>>.Continuation] = [:]
        var nextSubscriber = 0
        var syncWaiters: [CheckedContinuation<Void, Never>] = []
        var resourceVersion: String?
        var watches = 0
    }

    private let client: KubeClient
    private let resource: KubeResourceType
    private let namespace: String?
    private let options: ListOptions
    private let configuration: InformerConfiguration
    private let logger: Logger
    private let state = Mutex(State())

    public init(
        client: KubeClient, resource: KubeResourceType, namespace: String? = nil, labelSelector: LabelSelector? = nil,
        fieldSelector: FieldSelector? = nil, configuration: InformerConfiguration = InformerConfiguration(), logger: Logger
    ) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.options = ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector)
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Reading the cache

    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The cached objects, sorted by key.
    public var objects: [Object] { state.withLock { $0.store.objects.sorted { $0.key < $1.key }.map(\.value) } }

    public func object(forKey key: String) -> Object? { state.withLock { $0.store.objects[key] } }

    /// The last resourceVersion the cache is known to be current at.
    public var resourceVersion: String? { state.withLock { $0.resourceVersion } }

    /// Watches started after the first: reconnections after the server ended or dropped a watch,
    /// and after relists (410).
    public var watchRestarts: Int { state.withLock { max(0, $0.watches - 1) } }

    /// Changes from now on (call before `run()` to see the initial adds).
    public func events() -> AsyncStream<InformerEvent<Object>> {
        let (stream, continuation) = AsyncStream.makeStream(of: InformerEvent<Object>.self)
        let id = state.withLock { state in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Returns once the first list has been cached.
    public func waitForSync() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.synced { return true }
                state.syncWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    // MARK: Running

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.reflect()
        }
        // Finished outside the lock: finishing runs the streams' termination handlers, which lock.
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    private func reflect() async {
        var plan = ReflectorPlan(backoff: configuration.backoff, unavailableCap: configuration.unavailableBackoffCap)
        var step = plan.start
        let metadata: Logger.Metadata = ["kube.resource": "\(resource)", "kube.namespace": "\(namespace ?? "")"]
        while !Task.isCancelled {
            if let delay = step.delay {
                if step.endsWhenServerReady {
                    await waitForServer(atMost: delay)
                    if Task.isCancelled { return }
                } else {
                    do { try await Task.sleep(for: delay) } catch { return }
                }
            }
            switch step.action {
            case .list:
                do {
                    var listOptions = options
                    listOptions.limit = configuration.pageSize
                    if !hasSynced, listOptions.resourceVersion == nil {
                        // The first list from the API server's watch cache (resourceVersion 0:
                        // one response, no read of every object from etcd), as client-go's
                        // reflectors do; the watch from its version brings what is newer. Later
                        // lists, after a watch expired, read current data.
                        listOptions.resourceVersion = "0"
                    }
                    let list = try await client.listAll(Object.self, resource, namespace: namespace, options: listOptions)
                    let version = list.metadata.resourceVersion ?? ""
                    publish { store in store.replace(with: list.items) + [.synced] }
                    markSynced(version)
                    logger.debug("informer.listed", metadata: metadata.merging(["kube.items": "\(list.items.count)", "kube.resource_version": "\(version)"]) { $1 })
                    step = plan.next(after: .listed(resourceVersion: version))!
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("informer.list.failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                    step = plan.next(after: Self.isUnavailable(error) ? .listUnavailable : .listFailed)!
                }
            case .watch(let version):
                step = await watch(from: version, plan: &plan, metadata: metadata)
            }
        }
    }

    private func watch(from version: String, plan: inout ReflectorPlan, metadata: Logger.Metadata) async -> ReflectorPlan.Step {
        state.withLock { $0.watches += 1 }
        var watchOptions = options
        watchOptions.resourceVersion = version
        let minimum = Double(configuration.minimumWatchTimeout.components.seconds)
        watchOptions.timeoutSeconds = max(1, Int(minimum * (1 + Double.random(in: 0..<1))))
        do {
            for try await event in client.watch(Object.self, resource, namespace: namespace, options: watchOptions) {
                if case .error(let status) = event {
                    if status.code == 410 {
                        logger.info("informer.watch.expired", metadata: metadata.merging(["kube.resource_version": "\(version)"]) { $1 })
                        return plan.next(after: .watchExpired)!
                    }
                    throw KubeAPIError.from(watchStatus: status)
                }
                publish { store in store.apply(event) }
                if let newVersion = event.resourceVersion {
                    state.withLock { $0.resourceVersion = newVersion }
                    _ = plan.next(after: .progressed(resourceVersion: newVersion))
                }
            }
            return plan.next(after: .watchEnded)!
        } catch let error as KubeAPIError where error.code == .expired {
            return plan.next(after: .watchExpired)!
        } catch {
            if Task.isCancelled { return ReflectorPlan.Step(action: .list, delay: nil) }
            logger.info("informer.watch.dropped", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return plan.next(after: Self.isUnavailable(error) ? .watchUnavailable : .watchFailed)!
        }
    }

    /// The server could not be reached or is not serving yet: the connection was refused or
    /// broken, or it answered 503 (starting, or shedding load).
    static func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? KubeAPIError else { return false }
        return error.code == .transport || error.httpStatus == 503
    }

    /// Sleeps `delay`, asking the server's `/readyz` every `readinessProbeInterval` meanwhile and
    /// returning as soon as it answers ready.
    private func waitForServer(atMost delay: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + delay
        while clock.now < deadline {
            let pause = min(configuration.readinessProbeInterval, deadline - clock.now)
            do { try await Task.sleep(for: pause) } catch { return }
            if clock.now < deadline, await client.isServerReady(timeout: min(configuration.readinessProbeInterval, .seconds(2))) { return }
        }
    }

    private func publish(_ change: (inout InformerStore<Object>) -> [InformerEvent<Object>]) {
        state.withLock { state in
            for event in change(&state.store) {
                for continuation in state.subscribers.values { continuation.yield(event) }
            }
        }
    }

    private func markSynced(_ version: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.synced = true
            state.resourceVersion = version
            defer { state.syncWaiters = [] }
            return state.syncWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
