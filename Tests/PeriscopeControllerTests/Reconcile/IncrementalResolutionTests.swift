import PeriscopeAPI
@testable import PeriscopeController
import PeriscopeKube
import Testing

/// The incremental resolution against the full one on randomized clusters and randomized change
/// sequences: the same result after every change, whatever the order the caches deliver them in
/// and wherever the echoes of the controller's own writes arrive.
struct IncrementalResolutionTests {
    static let seeds: [UInt64] = Array(0..<60)

    /// Every difference between the incremental resolution and a full resolution of the same objects.
    static func differences(_ incremental: IncrementalResolution) -> [String] {
        let state = incremental.state
        let full = PolicyResolution(state)
        var differences: [String] = []
        for node in Set(full.desired.keys).union(incremental.nodes).sorted() {
            let spec = incremental.nodes.contains(node) ? incremental.spec(forNode: node) : nil
            if full.desired[node] != spec { differences.append("node \(node): \(String(describing: spec)) ≠ \(String(describing: full.desired[node]))") }
        }
        for policy in state.policies {
            let key = policy.policyKey
            if incremental.matchedPods(of: key) != full.matchedPods[key] ?? 0 {
                differences.append("matched pods of \(key): \(incremental.matchedPods(of: key)) ≠ \(full.matchedPods[key] ?? 0)")
            }
            if incremental.desiredNodes(of: key) != (full.desiredNodes[key] ?? []).sorted() { differences.append("nodes of \(key)") }
            if (try? incremental.verdict(of: key)?.get()) != (try? full.verdicts[key]?.get()) { differences.append("verdict of \(key)") }
        }
        // The indexes say what the selectors say.
        for (pod, value) in incremental.pods {
            let namespace = pod.namespace ?? ""
            let selecting = Set(
                state.policies.filter { policy in
                    policy.policyKey.namespace ?? "" == namespace && (try? full.verdicts[policy.policyKey]?.get()) != nil
                        && (policy.spec.podSelector?.labelSelector ?? LabelSelector()).matches(value.metadata.labels ?? [:])
                }.map(\.policyKey))
            if incremental.policiesOfPod[pod] ?? [] != selecting { differences.append("policies of pod \(pod)") }
            for policy in selecting where incremental.podsOfPolicy[policy]?.contains(pod) != true { differences.append("pods of \(policy) lack \(pod)") }
        }
        return differences
    }

    /// What the server holds against a full resolution of it: node objects and statuses.
    static func serverDifferences(_ cluster: LaggingCluster) -> [String] {
        let full = PolicyResolution(cluster.state)
        var objects: [String: NodeInstrumentation] = [:]
        for object in cluster.state.nodeInstrumentations { objects[object.metadata.name!] = object }
        var differences: [String] = []
        if objects.mapValues(\.spec) != full.desired { differences.append("node objects") }
        for policy in cluster.state.policies {
            let status = InstrumentationPolicyReconciler.status(of: policy, resolution: full, existing: objects, previous: policy.status, now: "later")
            if !InstrumentationPolicyReconciler.sameState(status, policy.status) { differences.append("status of \(policy.policyKey)") }
        }
        return differences
    }

    @Test(arguments: seeds)
    func matchesTheFullResolutionAfterEveryChange(seed: UInt64) {
        var random = RandomCluster(seed: seed)
        var cluster = LaggingCluster(random.state())
        var reconciler = Reconciler()
        for change in reconciler.changes(to: cluster.state) {
            reconciler.observe(change)
            #expect(Self.differences(reconciler.resolution).isEmpty, "seed \(seed), building")
        }
        for step in 0..<200 {
            if random.chance(0.1) {
                cluster.agentApplies(on: random.pick(RandomCluster.nodeNames), error: random.chance(0.2) ? "attach failed" : nil)
            } else {
                cluster.apply(random.change(&cluster.state))
            }
            cluster.deliverAll(to: &reconciler)
            let differences = Self.differences(reconciler.resolution)
            #expect(differences.isEmpty, "seed \(seed), step \(step): \(differences)")
            if !differences.isEmpty { return }
            // Decided and written at once, each echo observed at once: only what the change can
            // affect is looked at, and that must be enough for the server to hold the full result.
            for action in reconciler.decide(now: "T\(step)") {
                reconciler.record(cluster.carryOut(action))
                cluster.deliverAll(to: &reconciler)
            }
            let server = Self.serverDifferences(cluster)
            #expect(server.isEmpty && !reconciler.hasWork, "seed \(seed), step \(step): \(server)")
            if !server.isEmpty { return }
        }
        #expect(cluster.repeatedWrites.isEmpty, "seed \(seed): \(cluster.repeatedWrites)")
    }

    @Test(arguments: seeds)
    func convergesWithOneWritePerChangeWhateverTheEchoesTiming(seed: UInt64) {
        var random = RandomCluster(seed: seed &+ 1000)
        var cluster = LaggingCluster(random.state())
        var reconciler = Reconciler()
        for change in reconciler.changes(to: cluster.state) { reconciler.observe(change) }
        var now = 0
        func check(_ reconciler: Reconciler) {
            let differences = Self.differences(reconciler.resolution)
            #expect(differences.isEmpty, "seed \(seed): \(differences)")
        }
        /// One pass as the controller makes it: decide, then write one at a time, outcomes
        /// recorded as they come while the watches deliver whatever they have at random points.
        func pass() {
            now += 1
            let actions = reconciler.decide(now: "T\(now)")
            for action in actions {
                let outcome = cluster.carryOut(action, fail: random.chance(0.05))
                if random.chance(0.5) { cluster.deliver(random.pick(LaggingCluster.Resource.allCases), count: Int.random(in: 0..<3, using: &random.random), to: &reconciler, after: check) }
                reconciler.record(outcome)
            }
        }
        for _ in 0..<150 {
            switch Int.random(in: 0..<100, using: &random.random) {
            case 0..<40:
                let change = random.change(&cluster.state)
                cluster.apply(change)
            case 40..<60:
                cluster.deliver(random.pick(LaggingCluster.Resource.allCases), count: Int.random(in: 1..<4, using: &random.random), to: &reconciler, after: check)
            case 60..<85:
                pass()
            case 85..<95:
                cluster.agentApplies(on: random.pick(RandomCluster.nodeNames), error: random.chance(0.2) ? "attach failed" : nil)
            default:
                // A relist: every queued event, then the caches are the truth.
                cluster.deliverAll(to: &reconciler, after: check)
                reconciler.resynced()
            }
        }
        // Quiet down: every event delivered, passes until nothing is left to write.
        for _ in 0..<20 {
            cluster.deliverAll(to: &reconciler, after: check)
            now += 1
            let actions = reconciler.decide(now: "T\(now)")
            if actions.isEmpty, cluster.isQuiet { break }
            for action in actions { reconciler.record(cluster.carryOut(action)) }
        }
        #expect(cluster.isQuiet && !reconciler.hasWork, "seed \(seed): converged")
        #expect(cluster.repeatedWrites.isEmpty, "seed \(seed): writes that changed nothing: \(cluster.repeatedWrites)")

        // The server holds the full resolution of what it holds, and the statuses it implies.
        #expect(Self.serverDifferences(cluster).isEmpty, "seed \(seed): \(Self.serverDifferences(cluster))")
        // Level-triggered: a fresh reconciler on this cluster has nothing to write.
        var fresh = Reconciler()
        #expect(fresh.reconcile(cluster.state, now: "later").isEmpty, "seed \(seed): a fresh controller writes nothing")
        #expect(reconciler.checkConsistency().isEmpty)
    }

    @Test func theEchoOfAWriteCostsNoLook() {
        var cluster = LaggingCluster(
            ClusterState(
                policies: [Objects.policy("web", spec: .init(["podSelector": Objects.selector(["app": "checkout"]).document]))],
                pods: [Objects.pod("web-0")], nodes: Objects.nodes("node-a")))
        var reconciler = Reconciler()
        for change in reconciler.changes(to: cluster.state) { reconciler.observe(change) }
        let actions = reconciler.decide(now: "T1")
        #expect(actions.count == 2)
        // Half the echoes before the outcomes are recorded, half after.
        let first = cluster.carryOut(actions[0])
        cluster.deliverAll(to: &reconciler)
        #expect(!reconciler.hasWork)
        reconciler.record(first)
        let second = cluster.carryOut(actions[1])
        reconciler.record(second)
        #expect(reconciler.pendingWrites == 1)
        cluster.deliverAll(to: &reconciler)
        #expect(!reconciler.hasWork && reconciler.pendingWrites == 0)
        #expect(reconciler.decide(now: "T2").isEmpty)
    }

    @Test func theConsistencyCheckFindsNothingOnACurrentResolutionAndLooksAtEverything() {
        var reconciler = Reconciler()
        reconciler.observe(.node("node-a"))
        reconciler.observe(.pod(Objects.pod("web-0")))
        reconciler.observe(.policy(Objects.policy("web")))
        #expect(reconciler.checkConsistency().isEmpty)
        #expect(reconciler.hasWork, "everything is looked at again")
    }
}
