import Foundation
import Logging
import PeriscopeKube
import PeriscopeKubeTestServer
import Synchronization
import Testing

/// A deterministic random source for reproducible write sequences.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state ^ (state >> 29)
    }
}

@Suite(.serialized)
struct InformerConvergenceTests {
    /// What the informer's subscriber saw, in order.
    final class Recorder: Sendable {
        struct Seen: Sendable, Hashable {
            var type: String
            var key: String
            var resourceVersion: String
        }

        let seen = Mutex<[Seen]>([])

        func consume(_ events: AsyncStream<InformerEvent<DynamicObject>>) async {
            for await event in events {
                let entry: Seen? =
                    switch event {
                    case .added(let object): Seen(type: "ADDED", key: object.key, resourceVersion: object.metadata.resourceVersion ?? "")
                    case .updated(_, let object): Seen(type: "MODIFIED", key: object.key, resourceVersion: object.metadata.resourceVersion ?? "")
                    case .deleted(let object): Seen(type: "DELETED", key: object.key, resourceVersion: object.metadata.resourceVersion ?? "")
                    case .synced: nil
                    }
                if let entry { seen.withLock { $0.append(entry) } }
            }
        }
    }

    static func informer(_ client: KubeClient) -> Informer<DynamicObject> {
        var configuration = InformerConfiguration()
        configuration.minimumWatchTimeout = .seconds(1)
        configuration.backoff = ExponentialBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        return Informer<DynamicObject>(
            client: client, resource: .instrumentationPolicies, namespace: "default", configuration: configuration,
            logger: Logger(label: "informer"))
    }

    /// One random write: create, spec change, status change, label change, or delete.
    static func randomWrite(_ client: KubeClient, _ random: inout SeededGenerator) async throws {
        let name = "policy-\(Int.random(in: 0..<12, using: &random))"
        let path = KubeResourceType.instrumentationPolicies
        do {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<3:
                _ = try await client.create(Fixtures.policy(name, port: Int64.random(in: 1...65535, using: &random)), path)
            case 3..<6:
                _ = try await client.patch(
                    DynamicObject.self, path, namespace: "default", name: name,
                    patch: ["spec": ["ports": [["port": .int(Int64.random(in: 1...65535, using: &random))]]]], as: .merge)
            case 6:
                _ = try await client.patch(
                    DynamicObject.self, path, namespace: "default", name: name,
                    patch: ["status": ["matchedPods": .int(Int64.random(in: 0...9, using: &random))]], as: .merge, subresource: "status")
            case 7:
                _ = try await client.patch(
                    DynamicObject.self, path, namespace: "default", name: name,
                    patch: [["op": "add", "path": "/metadata/labels", "value": ["round": .string(String(Int.random(in: 0...99, using: &random)))]]],
                    as: .json)
            default:
                try await client.delete(path, namespace: "default", name: name)
            }
        } catch let error as KubeAPIError where [.notFound, .alreadyExists].contains(error.code) {
            // Random writes collide with the current state; the server said no and nothing changed.
        }
    }

    static func waitUntilConverged(_ informer: Informer<DynamicObject>, _ server: TestAPIServer) async throws -> Bool {
        for _ in 0..<400 {
            let cached = Dictionary(uniqueKeysWithValues: informer.objects.map { ($0.key, $0.metadata.resourceVersion ?? "") })
            let stored = server.objects(.instrumentationPolicies).mapValues { $0["metadata"]?["resourceVersion"]?.stringValue ?? "" }
            if cached == stored { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Many writes while watch connections are dropped and watches time out: every committed
    /// change reaches the cache exactly once, in order, and the cache ends equal to the server.
    @Test func dropsAndTimeoutsMissNoEventAndApplyNoneTwice() async throws {
        let server = try Fixtures.server(bookmarkInterval: .milliseconds(200))
        defer { server.stop() }
        let client = Fixtures.client(server)
        let informer = Self.informer(client)
        let recorder = Recorder()
        let events = informer.events()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await informer.run() }
            group.addTask { await recorder.consume(events) }
            await informer.waitForSync()
            var random = SeededGenerator(state: 42)
            for round in 0..<300 {
                try await Self.randomWrite(client, &random)
                if round % 23 == 0 { server.dropWatchConnections() }
                // Pauses longer than the watch timeout: the server ends watches, the informer resumes them.
                if round % 100 == 50 { try await Task.sleep(for: .milliseconds(2500)) }
            }
            #expect(try await Self.waitUntilConverged(informer, server))
            let total = server.history(.instrumentationPolicies).count
            for _ in 0..<100 where recorder.seen.withLock({ $0.count }) < total {
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        let committed = server.history(.instrumentationPolicies).map { "\($0.type) \($0.key) \($0.revision)" }
        let seen = recorder.seen.withLock { $0 }.map { "\($0.type) \($0.key) \($0.resourceVersion)" }
        #expect(committed.count > 150)
        #expect(seen == committed)
        if seen != committed {
            let difference = seen.difference(from: committed)
            Issue.record("first differences: \(Array(difference).prefix(6))")
        }
        let watches = server.requests.filter { $0.contains("watch=1") }.count
        #expect(watches > 10, "the watch was resumed after drops and timeouts")
    }

    /// Compactions force 410s and relists on top of dropped connections: the cache still ends
    /// equal to the server, and no version of an object is delivered twice or out of order.
    @Test func compactionsRelistAndConverge() async throws {
        let server = try Fixtures.server(bookmarkInterval: .milliseconds(200))
        defer { server.stop() }
        let client = Fixtures.client(server)
        let informer = Self.informer(client)
        let recorder = Recorder()
        let events = informer.events()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await informer.run() }
            group.addTask { await recorder.consume(events) }
            await informer.waitForSync()
            var random = SeededGenerator(state: 7)
            for round in 0..<300 {
                try await Self.randomWrite(client, &random)
                if round % 40 == 17 {
                    server.compact()
                    server.dropWatchConnections()
                } else if round % 19 == 0 {
                    server.dropWatchConnections()
                }
            }
            #expect(try await Self.waitUntilConverged(informer, server))
            group.cancelAll()
        }
        let cached = Dictionary(uniqueKeysWithValues: informer.objects.map { ($0.key, try! JSONValue(encoding: $0)) })
        #expect(cached == server.objects(.instrumentationPolicies))
        let seen = recorder.seen.withLock { $0 }
        #expect(Set(seen).count == seen.count, "no version delivered twice")
        var last: [String: Int] = [:]
        for entry in seen where entry.type != "DELETED" {
            let version = Int(entry.resourceVersion)!
            #expect(version > last[entry.key] ?? 0, "\(entry.key) went back to \(version)")
            last[entry.key] = version
        }
        let lists = server.requests.filter { $0.hasPrefix("GET /apis/periscope.dev/v1alpha1/namespaces/default/instrumentationpolicies?limit") }
        #expect(lists.count > 1, "relisted after 410")
        // The first list is served from the watch cache; a relist after a 410 reads current data.
        #expect(lists.first?.contains("resourceVersion=0") == true, "\(lists.first ?? "")")
        #expect(!lists.dropFirst().contains { $0.contains("resourceVersion=") }, "\(lists.dropFirst().prefix(2))")
    }

    /// The server goes away for 8 s (connections refused), comes back answering 503 while it
    /// starts, then is ready: with the default backoff, which by then would wait 6 to 13 s more,
    /// the informer resyncs within seconds of the server becoming ready and sees a change made then.
    @Test func afterAnOutageAChangeArrivesWithinSecondsOfTheServerBeingReady() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        let informer = Informer<DynamicObject>(
            client: client, resource: .instrumentationPolicies, namespace: "default", logger: Logger(label: "informer"))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await informer.run() }
            await informer.waitForSync()
            _ = try await client.create(Fixtures.policy("before", port: 8080), .instrumentationPolicies)
            try await Self.waitUntil { informer.object(forKey: "default/before") != nil }

            let port = server.port
            server.stop()
            try await Task.sleep(for: .seconds(8))
            try server.start(port: port)
            server.setStarting(true)
            try await Task.sleep(for: .seconds(1))
            server.setStarting(false)
            let ready = ContinuousClock.now
            _ = try await client.create(Fixtures.policy("after", port: 9090), .instrumentationPolicies)
            try await Self.waitUntil(timeout: .seconds(20)) { informer.object(forKey: "default/after") != nil }
            let elapsed = ContinuousClock.now - ready
            #expect(elapsed < .seconds(3), "the change arrived \(elapsed) after the server was ready")
            #expect(server.requests.contains("GET /readyz"), "the informer asked whether the server was ready")
            group.cancelAll()
        }
    }

    static func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }
}
