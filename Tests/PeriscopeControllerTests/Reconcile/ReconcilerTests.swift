import PeriscopeAPI
import PeriscopeController
import PeriscopeKube
import Testing

struct ReconcilerTests {
    typealias Spec = InstrumentationPolicy.Spec

    static func cluster() -> FakeCluster {
        FakeCluster(
            ClusterState(
                policies: [
                    Objects.policy("checkout", spec: Spec(["podSelector": Objects.selector(["app": "checkout"]).document, "ports": [["port": 8080]]])),
                    Objects.policy("cart", spec: Spec(["podSelector": Objects.selector(["app": "cart"]).document])),
                ],
                pods: [
                    Objects.pod("checkout-1", node: "node-a"), Objects.pod("checkout-2", node: "node-b"),
                    Objects.pod("cart-1", node: "node-b", labels: ["app": "cart"]),
                ],
                nodes: Objects.nodes("node-a", "node-b", "node-c")))
    }

    @Test func reconcilingTwiceOnTheSameStateWritesNothingTheSecondTime() {
        var cluster = Self.cluster()
        var reconciler = Reconciler()
        let first = cluster.reconcile(&reconciler)
        #expect(first.count == 3 + 2, "three node objects and two statuses: \(first)")
        #expect(cluster.reconcile(&reconciler).isEmpty)
        cluster.agentsApply()
        #expect(cluster.reconcile(&reconciler).count == 2, "both policies turn Ready")
        #expect(cluster.reconcile(&reconciler).isEmpty)
        var fresh = Reconciler()
        #expect(cluster.reconcile(&fresh).isEmpty, "a fresh controller on a converged cluster writes nothing")
    }

    @Test func aContainerRestartIsExactlyOneWrite() {
        var cluster = Self.cluster()
        var reconciler = Reconciler()
        cluster.reconcile(&reconciler)
        cluster.agentsApply()
        cluster.reconcile(&reconciler)
        let index = cluster.state.pods.firstIndex { $0.metadata.name == "checkout-2" }!
        cluster.state.pods[index] = Objects.pod("checkout-2", node: "node-b", ids: ["app": "containerd://restarted"])
        let actions = cluster.reconcile(&reconciler)
        #expect(actions.count == 1)
        guard case .applyNodeInstrumentation(let object)? = actions.first else { Issue.record("\(actions)"); return }
        #expect(object.metadata.name == "node-b")
        #expect(object.spec.targets.first { $0.name == "checkout-2" }?.containers == [.init(name: "app", id: "containerd://restarted")])
    }

    @Test func writesInFlightAreNotRepeatedBeforeTheCacheCatchesUp() {
        var cluster = Self.cluster()
        var reconciler = Reconciler()
        let first = cluster.reconcile(&reconciler, observe: false)
        #expect(first.count == 5)
        #expect(reconciler.pendingWrites == 5)
        #expect(cluster.reconcile(&reconciler, observe: false).isEmpty, "the caches lag: the remembered writes stand in")
        reconciler.resynced()
        #expect(cluster.reconcile(&reconciler).count == 5, "after a relist the caches are the truth again")
    }

    @Test func observingTheWrittenVersionForgetsTheWrite() {
        var reconciler = Reconciler()
        reconciler.observe(.node("node-a"))
        var object = NodeInstrumentation(metadata: ObjectMeta(name: "node-a"), spec: .init(nodeName: "node-a"))
        object.metadata.resourceVersion = "7"
        reconciler.record(.applied(object))
        var older = object
        older.metadata.resourceVersion = "6"
        reconciler.observe(.nodeInstrumentation(older))
        #expect(reconciler.pendingWrites == 1)
        reconciler.observe(.nodeInstrumentation(object))
        #expect(reconciler.pendingWrites == 0)
        reconciler.record(.statusUpdated(ObjectKey(namespace: "shop", name: "p"), resourceVersion: "9", .init()))
        reconciler.observe(.policy(Objects.policy("p", resourceVersion: "9")))
        #expect(reconciler.pendingWrites == 0)
        reconciler.record(.failed(.applyNodeInstrumentation(object)))
        #expect(reconciler.pendingWrites == 0)
        #expect(reconciler.hasWork, "a failed write is decided again")
    }

    @Test func anEchoArrivingBeforeTheWriteIsRecordedIsNotRemembered() {
        var reconciler = Reconciler()
        reconciler.observe(.node("node-a"))
        var object = NodeInstrumentation(metadata: ObjectMeta(name: "node-a"), spec: .init(nodeName: "node-a"))
        object.metadata.resourceVersion = "7"
        reconciler.observe(.nodeInstrumentation(object))
        reconciler.record(.applied(object))
        #expect(reconciler.pendingWrites == 0)
    }

    @Test func deletedNodesLoseTheirObject() {
        var cluster = Self.cluster()
        var reconciler = Reconciler()
        cluster.reconcile(&reconciler)
        cluster.state.nodes.removeAll { $0.metadata.name == "node-c" }
        #expect(cluster.reconcile(&reconciler) == [.deleteNodeInstrumentation(name: "node-c")])
        #expect(cluster.object("node-c") == nil)
        #expect(cluster.reconcile(&reconciler).isEmpty)
    }

    @Test func editingASelectorMovesPodsAndDeletingAPolicyClearsEveryNode() {
        var cluster = Self.cluster()
        var reconciler = Reconciler()
        cluster.reconcile(&reconciler)
        cluster.state.policies[1].spec = Spec(["podSelector": Objects.selector(["app": "checkout"], [.init(key: "app", operator: "Exists")]).document])
        cluster.state.policies[1].metadata.generation = 2
        cluster.reconcile(&reconciler)
        #expect(cluster.object("node-a")!.spec.targets.map(\.policy) == ["cart"], "the more specific selector takes checkout-1")
        #expect(cluster.object("node-b")!.spec.targets.map(\.policy) == ["cart"], "cart-1 is no longer selected; checkout-2 moved")
        #expect(cluster.status("checkout")?.matchedPods == 0)
        #expect(cluster.status("cart")?.matchedPods == 2)
        #expect(cluster.status("cart")?.observedGeneration == 2)

        cluster.state.policies.removeAll { $0.metadata.name == "cart" }
        cluster.reconcile(&reconciler)
        for node in ["node-a", "node-b", "node-c"] {
            #expect(cluster.object(node)!.spec.targets.allSatisfy { $0.policy != "cart" })
            #expect(cluster.object(node)!.spec.policies.allSatisfy { $0.name != "cart" })
        }
        #expect(cluster.object("node-b")!.spec.targets.map(\.name) == ["checkout-2"])
    }

    @Test func statusTellsAcceptedReadyAndNodeCounts() throws {
        var cluster = Self.cluster()
        cluster.state.policies.append(
            Objects.policy("broken", spec: Spec(["ports": [["port": 8000, "endPort": 9000], ["port": 8500]]])))
        var reconciler = Reconciler()
        cluster.reconcile(&reconciler, now: "T1")

        let broken = try #require(cluster.status("broken"))
        #expect(broken.condition("Accepted")?.status == "False")
        #expect(broken.condition("Accepted")?.reason == "OverlappingPorts")
        #expect(broken.condition("Ready")?.reason == "NotAccepted")

        var checkout = try #require(cluster.status("checkout"))
        #expect(checkout.condition("Accepted")?.reason == "Valid")
        #expect(checkout.condition("Ready")?.status == "False")
        #expect(checkout.condition("Ready")?.reason == "Pending")
        #expect(checkout.nodes == .init(desired: 2, applied: 0))
        #expect(checkout.matchedPods == 2)
        #expect(checkout.condition("Ready")?.lastTransitionTime == "T1")

        cluster.agentsApply(on: "node-a")
        cluster.reconcile(&reconciler, now: "T2")
        checkout = try #require(cluster.status("checkout"))
        #expect(checkout.nodes == .init(desired: 2, applied: 1))
        #expect(checkout.condition("Ready")?.message.contains("node-b") == true)
        #expect(checkout.condition("Ready")?.lastTransitionTime == "T1", "still False: no transition")

        cluster.agentsApply()
        cluster.reconcile(&reconciler, now: "T3")
        checkout = try #require(cluster.status("checkout"))
        #expect(checkout.condition("Ready")?.status == "True")
        #expect(checkout.condition("Ready")?.reason == "Applied")
        #expect(checkout.condition("Ready")?.lastTransitionTime == "T3")
        #expect(checkout.condition("Accepted")?.lastTransitionTime == "T1")
        #expect(cluster.status("broken")?.condition("Accepted")?.lastTransitionTime == "T1")

        cluster.agentsApply(error: "uprobe attach failed: ENOENT", on: "node-b")
        cluster.state.policies[0].metadata.generation = 2
        cluster.state.policies[0].spec.document = ["podSelector": Objects.selector(["app": "checkout"]).document, "ports": [["port": 8081]]]
        cluster.reconcile(&reconciler, now: "T4")
        cluster.agentsApply(on: "node-a")
        cluster.reconcile(&reconciler, now: "T5")
        checkout = try #require(cluster.status("checkout"))
        #expect(checkout.condition("Ready")?.reason == "AgentError")
        #expect(checkout.condition("Ready")?.message.contains("uprobe attach failed") == true)
    }

    @Test func aPolicyWithoutPodsIsNotReadyAndSaysWhy() throws {
        var cluster = FakeCluster(ClusterState(policies: [Objects.policy("idle", spec: Spec(["podSelector": Objects.selector(["app": "none"]).document]))], nodes: Objects.nodes("node-a")))
        var reconciler = Reconciler()
        cluster.reconcile(&reconciler)
        let status = try #require(cluster.status("idle"))
        #expect(status.condition("Ready")?.reason == "NoMatchingPods")
        #expect(status.nodes == .init(desired: 0, applied: 0))
    }
}
