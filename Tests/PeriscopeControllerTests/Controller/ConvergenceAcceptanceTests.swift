import PeriscopeAPI
@testable import PeriscopeController
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

@Suite(.serialized)
struct ConvergenceAcceptanceTests {
    /// Node objects' specs and policies' statuses without times: what two runs must agree on.
    static func snapshot(_ server: TestAPIServer) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (name, object) in server.objects(.nodeInstrumentations) { result["ni/\(name)"] = object["spec"] }
        for (key, object) in server.objects(.instrumentationPolicies) {
            var status = object["status"] ?? .null
            if var conditions = status["conditions"]?.arrayValue {
                for index in conditions.indices { conditions[index]["lastTransitionTime"] = nil }
                status["conditions"] = .array(conditions)
            }
            result["ipol/\(key)"] = status
        }
        return result
    }

    static func writes(_ server: TestAPIServer) -> Int {
        server.requests.filter { !$0.hasPrefix("GET") && $0.contains("periscope.dev") }.count
    }

    static func populate(_ client: KubeClient) async throws {
        for node in ["node-a", "node-b", "node-c"] { try await Harness.createNode(client, node) }
        for index in 0..<6 {
            try await Harness.createPod(client, "web-\(index)", node: ["node-a", "node-b", "node-c"][index % 3], labels: ["app": "web"])
        }
        try await Harness.createPod(client, "db-0", node: "node-c", labels: ["app": "db"])
        try await Harness.createPolicy(client, "web", spec: ["podSelector": ["matchLabels": ["app": "web"]], "ports": [["port": 8080]]])
        try await Harness.createPolicy(client, "db", spec: ["podSelector": ["matchLabels": ["app": "db"]]])
    }

    @Test func afterAnAPIServerRestartAndExpiredWatchesItConvergesToWhatAFreshStartProduces() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        let client = Harness.client(server)
        try await Self.populate(client)
        let controller = RunningController(server: server)
        try await Harness.eventually("first resolution") { Harness.targets(server)["node-c"] == ["db-0→db", "web-2→web", "web-5→web"] }

        // The API server goes away and comes back on the same port with its history compacted:
        // every watch resumes from a version that is gone (410) and the caches relist.
        let port = server.port
        server.stop()
        try await Task.sleep(for: .milliseconds(300))
        try server.start(port: port)
        server.compact()
        try await client.delete(.pods, namespace: "shop", name: "web-0")
        try await Harness.createPod(client, "web-6", node: "node-a", labels: ["app": "web"])
        try await client.delete(.nodes, namespace: nil, name: "node-b")
        var db = try await client.get(DynamicObject.self, .instrumentationPolicies, namespace: "shop", name: "db")
        db["spec"] = ["podSelector": ["matchLabels": ["app": "web"]], "containers": ["app"]]
        _ = try await client.update(db, .instrumentationPolicies)
        server.compact()

        try await Harness.eventually("converged after the restart", timeout: .seconds(20)) {
            Harness.targets(server) == ["node-a": ["web-3→db", "web-6→db"], "node-c": ["web-2→db", "web-5→db"]]
                && Harness.status(server, "db")?.observedGeneration == 2 && Harness.status(server, "web")?.matchedPods == 0
        }
        let restarts = controller.controller.watchRestarts
        #expect(restarts.values.allSatisfy { $0 >= 1 }, "every watch restarted: \(restarts)")
        await controller.stop()
        let converged = Self.snapshot(server)

        // A fresh controller on the same cluster has nothing to change…
        let before = Self.writes(server)
        let fresh = RunningController(server: server, identity: "controller-b")
        try await Harness.eventually("the fresh controller leads") { fresh.controller.isLeader && fresh.controller.isReady }
        try await Harness.eventually("the fresh controller has reconciled") { fresh.controller.metrics.reconciles >= 1 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(Self.writes(server) == before, "\(server.requests.suffix(10))")
        await fresh.stop()

        // …and on a new API server holding the same objects, produces the same ones.
        let other = try Harness.server()
        defer { other.stop() }
        let otherClient = Harness.client(other)
        for node in ["node-a", "node-c"] { try await Harness.createNode(otherClient, node) }
        for (index, node) in [(2, "node-c"), (3, "node-a"), (5, "node-c"), (6, "node-a")] {
            try await Harness.createPod(otherClient, "web-\(index)", node: node, labels: ["app": "web"])
        }
        try await Harness.createPod(otherClient, "db-0", node: "node-c", labels: ["app": "db"])
        try await Harness.createPolicy(otherClient, "web", spec: ["podSelector": ["matchLabels": ["app": "web"]], "ports": [["port": 8080]]])
        try await Harness.createPolicy(otherClient, "db", spec: ["podSelector": ["matchLabels": ["app": "db"]]])
        var otherDB = try await otherClient.get(DynamicObject.self, .instrumentationPolicies, namespace: "shop", name: "db")
        otherDB["spec"] = ["podSelector": ["matchLabels": ["app": "web"]], "containers": ["app"]]
        _ = try await otherClient.update(otherDB, .instrumentationPolicies)
        let third = RunningController(server: other, identity: "controller-c")
        try await Harness.eventually("a fresh start resolves the same") {
            Self.normalized(Self.snapshot(other)) == Self.normalized(converged)
        }
        await third.stop()
    }

    /// Pod UIDs and container IDs differ between servers; everything else must match.
    static func normalized(_ snapshot: [String: JSONValue]) -> [String: JSONValue] {
        snapshot.mapValues { value in
            guard var targets = value["targets"]?.arrayValue else { return value }
            for index in targets.indices { targets[index]["uid"] = nil }
            var value = value
            value["targets"] = .array(targets)
            return value
        }
    }

    @Test func reconcilingTwiceOnTheSameStateWritesNothingTheSecondTime() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        let client = Harness.client(server)
        try await Self.populate(client)
        let running = RunningController(server: server)
        try await Harness.eventually("resolved and reported") {
            Harness.targets(server).count == 3 && Harness.status(server, "db")?.condition("Ready")?.reason == "Pending"
        }
        try await Harness.agentsApply(client)
        try await Harness.eventually("Ready") { Harness.status(server, "web")?.condition("Ready")?.status == "True" }
        try await Task.sleep(for: .milliseconds(300))
        let before = Self.writes(server)
        #expect(await running.controller.reconcileOnce() == 0)
        #expect(await running.controller.reconcileOnce() == 0)
        #expect(Self.writes(server) == before, "\(server.requests.suffix(5))")
        await running.stop()
    }

    @Test func healthReadinessAndMetricsEndpoints() async throws {
        let server = try Harness.server()
        defer { server.stop() }
        try await Self.populate(Harness.client(server))
        let running = RunningController(server: server)
        let controller = running.controller
        let health = try HealthServer.health(address: "127.0.0.1", port: 0, logger: .init(label: "health"), handler: { controller.respond(to: $0) })
        let task = Task { try await health.run() }
        defer { task.cancel() }
        func get(_ path: String) async throws -> (Int, String) {
            let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(health.port)\(path)")!)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        try await Harness.eventually("ready") { try await get("/readyz").0 == 200 }
        #expect(try await get("/healthz") == (200, "ok\n"))
        try await Harness.eventually("resolved") { Harness.targets(server).count == 3 }
        let lines = [
            "periscope_controller_leader 1", "periscope_controller_writes_total{kind=\"nodeinstrumentation_apply\"} 3",
        ]
        try await Harness.eventually("the writes are counted") {
            let metrics = try await get("/metrics").1
            return lines.allSatisfy { metrics.contains($0) }
        }
        let (status, metrics) = try await get("/metrics")
        #expect(status == 200)
        for line in [
            "periscope_controller_leader 1", "periscope_controller_writes_total{kind=\"nodeinstrumentation_apply\"} 3",
            "periscope_controller_watch_restarts_total{resource=\"pods\"} 0", "periscope_controller_queue_depth ",
            "periscope_controller_reconcile_errors_total 0", "periscope_controller_reconcile_duration_seconds_count ",
        ] {
            #expect(metrics.contains(line), "\(line) in \(metrics)")
        }
        #expect(try await get("/nope").0 == 404)
        await running.stop()
    }
}
