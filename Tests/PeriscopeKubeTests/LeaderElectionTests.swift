import Foundation
import Logging
import PeriscopeKube
import PeriscopeKubeTestServer
import ServiceLifecycle
import Testing

struct LeaderElectionStateTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func lease(holder: String?, transitions: Int = 0, renew: String = "t0") -> Lease {
        Lease(
            metadata: ObjectMeta(name: "periscope-controller", namespace: "periscope", resourceVersion: "5"),
            spec: Lease.Spec(holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: "t0", renewTime: renew, leaseTransitions: transitions))
    }

    @Test func defaultsAreTheStandardTimings() {
        let configuration = LeaderElectionConfiguration(leaseName: "l", namespace: "n", identity: "me")
        #expect(configuration.leaseDuration == .seconds(15))
        #expect(configuration.renewDeadline == .seconds(10))
        #expect(configuration.retryPeriod == .seconds(2))
        #expect(configuration.releaseOnShutdown)
    }

    @Test func createsTheLeaseWhenThereIsNone() {
        var state = LeaderElectionState(identity: "me", leaseDuration: .seconds(15))
        guard case .create(let spec) = state.decide(current: nil, now: Self.start) else {
            Issue.record("expected create")
            return
        }
        #expect(spec.holderIdentity == "me")
        #expect(spec.leaseDurationSeconds == 15)
        #expect(spec.leaseTransitions == 0)
        #expect(spec.renewTime == "2027-01-15T08:00:00.000000Z")
    }

    @Test func waitsWhileAnotherHolderRenewsAndTakesOverAfterTheLeaseDuration() {
        var state = LeaderElectionState(identity: "me", leaseDuration: .seconds(15))
        #expect(state.decide(current: Self.lease(holder: "other"), now: Self.start) == .wait(holder: "other"))
        // The holder renewed: a new record restarts the clock.
        #expect(state.decide(current: Self.lease(holder: "other", renew: "t1"), now: Self.start + 14) == .wait(holder: "other"))
        #expect(state.decide(current: Self.lease(holder: "other", renew: "t1"), now: Self.start + 28) == .wait(holder: "other"))
        guard case .update(let spec) = state.decide(current: Self.lease(holder: "other", renew: "t1"), now: Self.start + 30) else {
            Issue.record("expected takeover")
            return
        }
        #expect(spec.holderIdentity == "me")
        #expect(spec.leaseTransitions == 1)
        #expect(spec.acquireTime == spec.renewTime)
    }

    @Test func renewsItsOwnLeaseKeepingAcquireTime() {
        var state = LeaderElectionState(identity: "me", leaseDuration: .seconds(15))
        guard case .update(let spec) = state.decide(current: Self.lease(holder: "me", transitions: 2), now: Self.start) else {
            Issue.record("expected renew")
            return
        }
        #expect(spec.acquireTime == "t0")
        #expect(spec.leaseTransitions == 2)
        #expect(spec.renewTime != "t0")
    }

    @Test func acquiresAReleasedLeaseAtOnce() {
        var state = LeaderElectionState(identity: "me", leaseDuration: .seconds(15))
        #expect(state.decide(current: Self.lease(holder: ""), now: Self.start) != .wait(holder: ""))
        let release = state.release(current: Self.lease(holder: "me", transitions: 1), now: Self.start)
        #expect(release?.holderIdentity == "")
        #expect(release?.leaseDurationSeconds == 1)
        #expect(release?.leaseTransitions == 1)
        #expect(state.release(current: Self.lease(holder: "other"), now: Self.start) == nil)
    }
}

@Suite(.serialized)
struct LeaderElectorTests {
    static func configuration(_ identity: String) -> LeaderElectionConfiguration {
        var configuration = LeaderElectionConfiguration(leaseName: "periscope-controller", namespace: "default", identity: identity)
        configuration.leaseDuration = .seconds(3)
        configuration.renewDeadline = .seconds(2)
        configuration.retryPeriod = .milliseconds(100)
        return configuration
    }

    static func elector(_ server: TestAPIServer, _ identity: String, logger: Logger? = nil) -> LeaderElector {
        LeaderElector(client: Fixtures.client(server), configuration: configuration(identity), logger: logger ?? Logger(label: identity))
    }

    /// Renewing the lease every 100 ms for a second and a half logs the election once, and the
    /// step down on shutdown once.
    @Test func leadershipChangesAreLoggedOnceNotOnEveryRenewal() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let (logger, logs) = RecordingLogHandler.logger(label: "controller-a")
        let elector = Self.elector(server, "controller-a", logger: logger)
        let group = ServiceGroup(services: [elector], logger: Logger(label: "a"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var leads = elector.leadership().makeAsyncIterator()
            tasks.addTask { try await group.run() }
            #expect(await leads.next() == true)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(elector.isLeader)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let renewals = try await Fixtures.client(server).get(Lease.self, namespace: "default", name: "periscope-controller")
        #expect(renewals.spec.holderIdentity == "")
        #expect(logs.count("leader.elected", atLeast: .info) == 1)
        #expect(logs.count("leader.stepped_down", atLeast: .info) == 1)
    }

    /// A renewal in flight when a graceful shutdown begins is finished before the lease is
    /// given up, not abandoned: a write already on its way reaches the server all the same, and
    /// landing between the release's read and its write it made the release fail (a
    /// conflict), the lease left held by a candidate that had stopped. The transport holds the
    /// renewal until after the shutdown began.
    @Test func aRenewalInFlightAtShutdownEndsBeforeTheLeaseIsReleased() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let transport = HeldWriteTransport()
        let client = KubeClient(
            configuration: KubeClientConfiguration(server: server.url, credentials: .token("test-token")), transport: transport,
            logger: Logger(label: "test"))
        let (logger, logs) = RecordingLogHandler.logger(label: "controller-a")
        let elector = LeaderElector(client: client, configuration: Self.configuration("controller-a"), logger: logger)
        let group = ServiceGroup(services: [elector], logger: Logger(label: "a"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var leads = elector.leadership().makeAsyncIterator()
            tasks.addTask { try await group.run() }
            #expect(await leads.next() == true)
            transport.holdNext { $0.method == "PUT" && $0.url.contains("/leases/periscope-controller") }
            var held = transport.held.makeAsyncIterator()
            await held.next()
            await group.triggerGracefulShutdown()
            try await Task.sleep(for: .milliseconds(200))
            transport.release()
            try await tasks.waitForAll()
        }
        let lease = try await Fixtures.client(server).get(Lease.self, namespace: "default", name: "periscope-controller")
        #expect(!transport.wasAbandoned, "the renewal in flight was cancelled")
        #expect(lease.spec.holderIdentity == "")
        #expect(logs.count("leader.released", atLeast: .info) == 1)
        #expect(logs.count("leader.release.failed") == 0)
        #expect(logs.count("leader.stepped_down", atLeast: .info) == 1)
    }

    /// Two candidates: one leads; when it shuts down gracefully it releases the lease and the
    /// other takes over well before the lease would have expired.
    @Test func oneLeaderAndAHandOverOnGracefulShutdown() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let first = Self.elector(server, "controller-a")
        let second = Self.elector(server, "controller-b")
        let firstGroup = ServiceGroup(services: [first], logger: Logger(label: "a"))
        let secondGroup = ServiceGroup(services: [second], logger: Logger(label: "b"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await firstGroup.run() }
            var firstLeads = first.leadership().makeAsyncIterator()
            #expect(await firstLeads.next() == true)
            group.addTask { try await secondGroup.run() }
            try await Task.sleep(for: .milliseconds(600))
            #expect(first.isLeader && !second.isLeader)
            let lease = try await Fixtures.client(server).get(Lease.self, namespace: "default", name: "periscope-controller")
            #expect(lease.spec.holderIdentity == "controller-a")

            let handOver = ContinuousClock.now
            await firstGroup.triggerGracefulShutdown()
            var secondLeads = second.leadership().makeAsyncIterator()
            if !second.isLeader { #expect(await secondLeads.next() == true) }
            #expect(ContinuousClock.now - handOver < .seconds(2), "released, not expired")
            #expect(!first.isLeader)
            let taken = try await Fixtures.client(server).get(Lease.self, namespace: "default", name: "periscope-controller")
            #expect(taken.spec.holderIdentity == "controller-b")
            #expect(taken.spec.leaseTransitions == 1)
            await secondGroup.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        let released = try await Fixtures.client(server).get(Lease.self, namespace: "default", name: "periscope-controller")
        #expect(released.spec.holderIdentity == "")
    }
}
