import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization

/// Leader election settings; defaults are Kubernetes' standard timings.
public struct LeaderElectionConfiguration: Sendable {
    /// The Lease object (`coordination.k8s.io/v1`).
    public var leaseName: String
    public var namespace: String
    /// This candidate's identity, usually the pod name (env `POD_NAME`).
    public var identity: String
    /// How long a lease is valid without renewal. Default 15 s.
    public var leaseDuration: Duration = .seconds(15)
    /// A leader that cannot renew within this long steps down. Default 10 s.
    public var renewDeadline: Duration = .seconds(10)
    /// Time between attempts to acquire or renew. Default 2 s.
    public var retryPeriod: Duration = .seconds(2)
    /// Give the lease up when stopped so another candidate takes over at once. Default true.
    public var releaseOnShutdown = true

    public init(leaseName: String, namespace: String, identity: String) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
    }
}

/// Campaigns for a Lease as a `Service`; `leadership()` tells when this process leads.
public final class LeaderElector: Service, Sendable {
    private struct State {
        var isLeader = false
        var subscribers: [Int: AsyncStream<Bool>.Continuation] = [:]
        var next = 0
    }

    private let client: KubeClient
    public let configuration: LeaderElectionConfiguration
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    public init(
        client: KubeClient, configuration: LeaderElectionConfiguration, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

    /// `true` when this process becomes leader, `false` when it stops being leader.
    public func leadership() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self)
        let id = state.withLock { state in
            state.next += 1
            state.subscribers[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) } }
        return stream
    }

    public func run() async throws {
        let election = await campaign()
        if isLeader {
            if configuration.releaseOnShutdown { await release(election) }
            setLeader(false)
        }
        // Finished outside the lock: finishing runs the streams' termination handlers, which lock.
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    /// Acquires, renews, and steps down when renewals fail for longer than the renew deadline;
    /// returns at a graceful shutdown once no attempt is in flight. Only the wait between
    /// attempts is cut short by it: an attempt cancelled after its write went out may still
    /// land at the server after the release read the lease, which then fails on a conflict
    /// and leaves the lease held by a candidate that stopped.
    private func campaign() async -> LeaderElectionState {
        var election = LeaderElectionState(identity: configuration.identity, leaseDuration: configuration.leaseDuration)
        var lastRenew: ContinuousClock.Instant?
        let clock = ContinuousClock()
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if await attempt(&election) {
                lastRenew = clock.now
                setLeader(true)
            } else if isLeader, let renewed = lastRenew, clock.now - renewed > configuration.renewDeadline {
                logger.warning("leader.lost", metadata: ["lease": "\(configuration.leaseName)", "identity": "\(configuration.identity)"])
                setLeader(false)
            }
            // client-go waits retryPeriod between renewals, and a jittered retryPeriod while acquiring.
            let pause = configuration.retryPeriod * (isLeader ? 1.0 : 1.0 + Double.random(in: 0..<1.2))
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { break }
        }
        return election
    }

    private func attempt(_ election: inout LeaderElectionState) async -> Bool {
        let metadata: Logger.Metadata = ["lease": "\(configuration.leaseName)", "identity": "\(configuration.identity)"]
        do {
            var current: Lease?
            do {
                current = try await client.get(Lease.self, namespace: configuration.namespace, name: configuration.leaseName)
            } catch let error as KubeAPIError where error.code == .notFound {
                current = nil
            }
            switch election.decide(current: current, now: now()) {
            case .wait:
                return false
            case .create(let spec):
                _ = try await client.create(
                    Lease(metadata: ObjectMeta(name: configuration.leaseName, namespace: configuration.namespace), spec: spec),
                    fieldManager: configuration.identity)
            case .update(let spec):
                var lease = current!
                if lease.spec.holderIdentity != configuration.identity {
                    logger.info("leader.acquiring", metadata: metadata.merging(["previous": "\(lease.spec.holderIdentity ?? "")"]) { $1 })
                }
                lease.spec = spec
                _ = try await client.update(lease, fieldManager: configuration.identity)
            }
            return true
        } catch {
            logger.debug("leader.attempt.failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return false
        }
    }

    /// Gives the lease up if this candidate holds it; a write that lost to another one made
    /// since the read (a conflict) is tried again on the lease as it is then, a few times.
    private func release(_ election: LeaderElectionState) async {
        let attempts = 3
        for attempt in 1...attempts {
            do {
                var lease = try await client.get(Lease.self, namespace: configuration.namespace, name: configuration.leaseName)
                guard let spec = election.release(current: lease, now: now()) else { return }
                lease.spec = spec
                _ = try await client.update(lease, fieldManager: configuration.identity)
                logger.info("leader.released", metadata: ["lease": "\(configuration.leaseName)", "identity": "\(configuration.identity)"])
                return
            } catch let error as KubeAPIError where error.code == .conflict && attempt < attempts {
                continue
            } catch {
                logger.warning("leader.release.failed", metadata: ["lease": "\(configuration.leaseName)", "error": "\(error)"])
                return
            }
        }
    }

    /// Records a change of leadership: subscribers hear of it and it is logged, once per change
    /// (renewals that keep the lease change nothing).
    private func setLeader(_ leader: Bool) {
        let changed = state.withLock { state -> Bool in
            guard state.isLeader != leader else { return false }
            state.isLeader = leader
            for continuation in state.subscribers.values { continuation.yield(leader) }
            return true
        }
        guard changed else { return }
        logger.info(leader ? "leader.elected" : "leader.stepped_down", metadata: ["lease": "\(configuration.leaseName)", "identity": "\(configuration.identity)"])
    }
}
