import Foundation
import Logging
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

/// The client against the test API server: typed requests and typed errors.
@Suite(.serialized)
struct KubeClientTests {
    static func expectError(_ code: KubeAPIError.Code, _ operation: () async throws -> Void) async -> KubeAPIError? {
        do {
            try await operation()
            Issue.record("expected \(code)")
            return nil
        } catch let error as KubeAPIError {
            #expect(error.code == code, "\(error)")
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    /// The client keeps its connection to the API server: twenty requests of every kind, one
    /// connection (client-go's transport does the same).
    @Test func reusesItsConnectionAcrossRequests() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let transport = CurlTransport()
        let client = KubeClient(
            configuration: KubeClientConfiguration(server: server.url, credentials: .token("test-token")), transport: transport,
            logger: Logger(label: "test"))
        for index in 0..<5 {
            _ = try await client.create(Fixtures.policy("p\(index)", port: Int64(8000 + index)), .instrumentationPolicies)
            _ = try await client.get(DynamicObject.self, .instrumentationPolicies, namespace: "default", name: "p\(index)")
            _ = try await client.list(DynamicObject.self, .instrumentationPolicies, namespace: "default")
            try await client.delete(.instrumentationPolicies, namespace: "default", name: "p\(index)")
        }
        #expect(transport.connectionsOpened == 1)
        #expect(server.connectionsAccepted == 1)
    }

    /// Bursts of requests, as a controller's first resolution sends, run `concurrentRequests` at
    /// once and keep that many connections between them: the next burst opens none (before,
    /// half of each burst's connections were closed and opened again, a TLS handshake each).
    @Test func burstsOfConcurrentRequestsReuseTheirConnections() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let transport = CurlTransport(concurrentRequests: 6)
        let client = KubeClient(
            configuration: KubeClientConfiguration(server: server.url, credentials: .token("test-token")), transport: transport,
            logger: Logger(label: "test"))
        for _ in 0..<4 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<24 {
                    group.addTask { _ = try await client.list(DynamicObject.self, .instrumentationPolicies, namespace: "default") }
                }
                try await group.waitForAll()
            }
        }
        #expect(transport.connectionsOpened <= 6)
        #expect(server.connectionsAccepted <= 6)
        #expect(CurlTransport.defaultConcurrentRequests >= 16)
    }

    @Test func createGetUpdateAndDeleteWithTypedErrors() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        let created = try await client.create(Fixtures.policy("checkout", port: 8080, labels: ["team": "shop"]), .instrumentationPolicies)
        #expect(created.metadata.generation == 1)
        #expect(created.metadata.uid != nil)

        _ = await Self.expectError(.alreadyExists) { _ = try await client.create(Fixtures.policy("checkout", port: 1), .instrumentationPolicies) }
        _ = await Self.expectError(.notFound) {
            _ = try await client.get(DynamicObject.self, .instrumentationPolicies, namespace: "default", name: "nope")
        }
        _ = await Self.expectError(.notFound) { _ = try await client.create(Fixtures.policy("x", namespace: "missing", port: 1), .instrumentationPolicies) }
        let invalid = await Self.expectError(.invalid) { _ = try await client.create(Fixtures.policy("bad", port: 70000), .instrumentationPolicies) }
        #expect(invalid?.causes.first?.field == "spec.ports.port")
        #expect(invalid?.causes.first?.reason == "FieldValueInvalid")

        var stale = created
        stale["spec"] = ["ports": [["port": 9090]]]
        let updated = try await client.update(stale, .instrumentationPolicies)
        #expect(updated.metadata.generation == 2)
        _ = await Self.expectError(.conflict) { _ = try await client.update(stale, .instrumentationPolicies) }

        // Labels do not move generation; status writes ignore spec; main writes ignore status.
        let labelled = try await client.patch(
            DynamicObject.self, .instrumentationPolicies, namespace: "default", name: "checkout",
            patch: [["op": "add", "path": "/metadata/labels/tier", "value": "web"]], as: .json)
        #expect(labelled.metadata.generation == 2)
        var statusWrite = labelled
        statusWrite["spec"] = ["ports": [["port": 1]]]
        statusWrite["status"] = ["observedGeneration": 2, "matchedPods": 3]
        let withStatus = try await client.updateStatus(statusWrite, .instrumentationPolicies)
        #expect(withStatus["spec"] == ["ports": [["port": 9090]]])
        #expect(withStatus["status"]?["matchedPods"] == 3)
        var mainWrite = withStatus
        mainWrite["status"] = ["matchedPods": 99]
        let ignored = try await client.update(mainWrite, .instrumentationPolicies)
        #expect(ignored["status"]?["matchedPods"] == 3)

        _ = await Self.expectError(.conflict) {
            try await client.delete(.instrumentationPolicies, namespace: "default", name: "checkout", resourceVersion: "1")
        }
        try await client.delete(.instrumentationPolicies, namespace: "default", name: "checkout")
        _ = await Self.expectError(.notFound) { try await client.delete(.instrumentationPolicies, namespace: "default", name: "checkout") }
    }

    @Test func serverSideApplyWithFieldManagersAndForce() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        let applied = try await client.apply(Fixtures.policy("applied", port: 3000), .instrumentationPolicies, fieldManager: "periscopectl")
        #expect(applied["spec"]?["ports"] == [["port": 3000]])
        let conflict = await Self.expectError(.conflict) {
            _ = try await client.apply(Fixtures.policy("applied", port: 3001), .instrumentationPolicies, fieldManager: "someone-else")
        }
        #expect(conflict?.causes.first?.reason == "FieldManagerConflict")
        #expect(conflict?.causes.first?.field == ".spec.ports")
        let forced = try await client.apply(Fixtures.policy("applied", port: 3001), .instrumentationPolicies, fieldManager: "someone-else", force: true)
        #expect(forced["spec"]?["ports"] == [["port": 3001]])
        #expect(forced.metadata.generation == 2)
    }

    @Test func clusterScopedAndBuiltInResources() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        _ = try await client.create(Namespace(name: "periscope", labels: ["team": "obs"]))
        let selected = try await client.list(Namespace.self, options: ListOptions(labelSelector: LabelSelector(matchLabels: ["team": "obs"])))
        #expect(selected.items.map(\.metadata.name) == ["periscope"])
        let lease = try await client.create(
            Lease(metadata: ObjectMeta(name: "l", namespace: "periscope"), spec: Lease.Spec(holderIdentity: "a", leaseDurationSeconds: 15)))
        #expect(lease.metadata.generation == nil)
        let pod = DynamicObject(
            type: .pods, metadata: ObjectMeta(name: "p", namespace: "periscope"),
            fields: ["spec": ["nodeName": "node-a", "containers": [["name": "app", "image": "i"]]]])
        _ = try await client.create(pod, .pods)
        let running = try await client.patch(
            Pod.self, .pods, namespace: "periscope", name: "p",
            patch: ["status": ["phase": "Running", "containerStatuses": [["name": "app", "containerID": "containerd://abc", "ready": true]]]],
            as: .strategicMerge, subresource: "status")
        #expect(running.status.containerStatuses?.first?.containerID == "containerd://abc")
        let onNode = try await client.list(Pod.self, options: ListOptions(fieldSelector: .nodeName("node-a")))
        #expect(onNode.items.map(\.metadata.name) == ["p"])
        #expect(try await client.list(Pod.self, options: ListOptions(fieldSelector: .nodeName("node-b"))).items.isEmpty)
        _ = await Self.expectError(.badRequest) {
            _ = try await client.list(Pod.self, options: ListOptions(fieldSelector: FieldSelector([.init(field: "spec.bogus", value: "x")])))
        }
    }

    @Test func paginationFollowsContinueTokensAndExpiresAfterCompaction() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        for index in 0..<7 { _ = try await client.create(Fixtures.policy("p\(index)", port: Int64(8000 + index)), .instrumentationPolicies) }
        let first = try await client.list(DynamicObject.self, .instrumentationPolicies, namespace: "default", options: ListOptions(limit: 3))
        #expect(first.items.map(\.metadata.name) == ["p0", "p1", "p2"])
        #expect(first.metadata.remainingItemCount == 4)
        _ = try await client.create(Fixtures.policy("p7", port: 8007), .instrumentationPolicies)
        let second = try await client.list(
            DynamicObject.self, .instrumentationPolicies, namespace: "default", options: ListOptions(limit: 3, continue: first.metadata.continue))
        #expect(second.items.map(\.metadata.name) == ["p3", "p4", "p5"])
        #expect(second.metadata.resourceVersion == first.metadata.resourceVersion, "pages are one consistent snapshot")
        let all = try await client.listAll(DynamicObject.self, .instrumentationPolicies, namespace: "default", options: ListOptions(limit: 3))
        #expect(all.items.count == 8)

        server.compact()
        let expired = await Self.expectError(.expired) {
            _ = try await client.list(
                DynamicObject.self, .instrumentationPolicies, namespace: "default", options: ListOptions(limit: 3, continue: second.metadata.continue))
        }
        #expect(expired?.httpStatus == 410)
        #expect(expired?.status?.reason == "Expired")
    }

    @Test func throttlingHonoursRetryAfterAndServerErrorsAreTyped() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        server.injectFault(pathPrefix: "/api/v1/namespaces", status: 429, retryAfter: 1)
        let start = ContinuousClock.now
        _ = try await client.get(Namespace.self, name: "default")
        #expect(ContinuousClock.now - start >= .seconds(1), "waited Retry-After")
        #expect(server.requests.filter { $0 == "GET /api/v1/namespaces/default" }.count == 2)

        server.injectFault(pathPrefix: "/api/v1/namespaces", status: 503, retryAfter: nil)
        let failure = await Self.expectError(.serverError) { _ = try await client.get(Namespace.self, name: "default") }
        #expect(failure?.isRetryable == true)

        let impatient = Fixtures.client(server, maxRetries: 0)
        server.injectFault(pathPrefix: "/api/v1/namespaces", status: 429, retryAfter: 7)
        let throttled = await Self.expectError(.tooManyRequests) { _ = try await impatient.get(Namespace.self, name: "default") }
        #expect(throttled?.retryAfter == .seconds(7))
    }

    @Test func watchDeliversEventsBookmarksAndExpiry() async throws {
        let server = try Fixtures.server(bookmarkInterval: .milliseconds(100))
        defer { server.stop() }
        let client = Fixtures.client(server)
        let list = try await client.list(DynamicObject.self, .instrumentationPolicies, namespace: "default")
        let version = try #require(list.metadata.resourceVersion)
        let events = client.watch(
            DynamicObject.self, .instrumentationPolicies, namespace: "default", options: ListOptions(resourceVersion: version, timeoutSeconds: 2))
        _ = try await client.create(Fixtures.policy("w", port: 1), .instrumentationPolicies)
        _ = try await client.patch(
            DynamicObject.self, .instrumentationPolicies, namespace: "default", name: "w", patch: ["spec": ["ports": [["port": 2]]]], as: .merge)
        try await client.delete(.instrumentationPolicies, namespace: "default", name: "w")
        var kinds: [String] = []
        for try await event in events {
            switch event {
            case .added: kinds.append("ADDED")
            case .modified: kinds.append("MODIFIED")
            case .deleted: kinds.append("DELETED")
            case .bookmark: if kinds.last != "BOOKMARK" { kinds.append("BOOKMARK") }
            case .error: kinds.append("ERROR")
            }
        }
        #expect(kinds.filter { $0 != "BOOKMARK" } == ["ADDED", "MODIFIED", "DELETED"])
        #expect(kinds.last == "BOOKMARK")

        server.compact()
        var expired: KubeStatus?
        for try await event in client.watch(DynamicObject.self, .instrumentationPolicies, namespace: "default", options: ListOptions(resourceVersion: version)) {
            if case .error(let status) = event { expired = status }
        }
        #expect(expired?.code == 410)
        #expect(expired?.reason == "Expired")
    }
}
