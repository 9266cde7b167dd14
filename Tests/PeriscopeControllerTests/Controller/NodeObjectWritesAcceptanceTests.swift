import PeriscopeAPI
@testable import PeriscopeController
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

/// How node objects are written so that an uninstall cannot leave one behind: created with a
/// create (which a real API server refuses while the CRD is being deleted), then applied bound to
/// the UID the controller knows (a conflict once that object is gone, where a plain apply would
/// create it again).
@Suite(.serialized)
struct NodeObjectWritesAcceptanceTests {
    static func nodeObjectWrites(_ server: TestAPIServer) -> [String] {
        Harness.controllerWrites(server, userAgent: "periscope-controller").filter { $0.contains("/nodeinstrumentations") }
    }

    static func uid(_ server: TestAPIServer, _ node: String) -> String? {
        server.objects(.nodeInstrumentations)[node]?.value(atPath: "metadata.uid")?.stringValue
    }

    @Test func createsANodeObjectThenAppliesItsChangesToThatObject() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        let client = Harness.client(server)
        try await Harness.createNode(client, "node-a")
        try await Harness.createPod(client, "web-0", node: "node-a", labels: ["app": "web"])
        let controller = RunningController(server: server)
        try await Harness.eventually("the node's object") { Self.uid(server, "node-a") != nil }
        let created = try #require(Self.uid(server, "node-a"))
        #expect(Self.nodeObjectWrites(server).map { $0.split(separator: " ")[0] } == ["POST"])

        try await Harness.createPolicy(client, "web", spec: ["podSelector": ["matchLabels": ["app": "web"]]])
        try await Harness.eventually("the pod as a target") { Harness.targets(server)["node-a"] == ["web-0→web"] }
        #expect(Self.uid(server, "node-a") == created, "the same object, changed")
        let writes = Self.nodeObjectWrites(server)
        #expect(writes.count == 2 && writes[1].hasPrefix("PATCH /apis/periscope.dev/v1alpha1/nodeinstrumentations/node-a"), "\(writes)")
        await controller.stop()
    }

    @Test func aNodeObjectDeletedUnderItIsCreatedAnewNotBroughtBackByAnApply() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        let client = Harness.client(server)
        try await Harness.createNode(client, "node-a")
        try await Harness.createPod(client, "web-0", node: "node-a", labels: ["app": "web"])
        try await Harness.createPolicy(client, "web", spec: ["podSelector": ["matchLabels": ["app": "web"]]])
        let controller = RunningController(server: server)
        try await Harness.eventually("the pod as a target") { Harness.targets(server)["node-a"] == ["web-0→web"] }
        let first = try #require(Self.uid(server, "node-a"))

        try await client.delete(.nodeInstrumentations, namespace: nil, name: "node-a")
        try await Harness.eventually("a new object") { Self.uid(server, "node-a").map { $0 != first } ?? false }
        #expect(Harness.targets(server)["node-a"] == ["web-0→web"])
        let writes = Self.nodeObjectWrites(server)
        #expect(writes.filter { $0.hasPrefix("POST") }.count == 2, "\(writes)")
        await controller.stop()
    }

    @Test func anApplyNamingTheUIDOfAnObjectThatIsGoneConflicts() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        let client = Harness.client(server)
        var object = NodeInstrumentation(metadata: ObjectMeta(name: "node-gone"), spec: .init(nodeName: "node-gone"))
        object.metadata.uid = "3ee1c916-e882-4d9c-9bee-1964ca59ba55"
        do {
            _ = try await client.apply(object, .nodeInstrumentations, fieldManager: "periscope-controller", force: true)
            Issue.record("the apply created an object")
        } catch let error as KubeAPIError {
            #expect(error.code == .conflict, "\(error)")
        }
        #expect(server.objects(.nodeInstrumentations)["node-gone"] == nil)
    }
}
