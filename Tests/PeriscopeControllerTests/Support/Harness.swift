import Foundation
import Logging
import PeriscopeAPI
import PeriscopeController
import PeriscopeKube
import PeriscopeKubeTestServer
import ServiceLifecycle
import Testing

/// A test API server with the project's CRDs, a client, and helpers to build a cluster, run
/// controllers and play the node agents.
enum Harness {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func server(namespaces: [String] = ["default", "kube-system", "shop"]) throws -> TestAPIServer {
        var configuration = TestAPIServer.Configuration()
        configuration.crdFiles = ["\(packageRoot)/crds/instrumentationpolicy.yaml", "\(packageRoot)/crds/nodeinstrumentation.yaml"]
        configuration.namespaces = namespaces
        configuration.bookmarkInterval = .milliseconds(500)
        let server = try TestAPIServer(configuration: configuration)
        try server.start()
        return server
    }

    static func client(_ server: TestAPIServer, userAgent: String = "periscope-test") -> KubeClient {
        KubeClient(
            configuration: KubeClientConfiguration(server: server.url, credentials: .token("test-token"), userAgent: userAgent),
            logger: Logger(label: "test"))
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "periscope-controller-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Short lease timings so takeovers happen within seconds.
    static func configuration(identity: String) -> ControllerConfiguration {
        var configuration = ControllerConfiguration(identity: identity, leaseNamespace: "kube-system")
        configuration.leaseDuration = .seconds(4)
        configuration.renewDeadline = .seconds(3)
        configuration.retryPeriod = .milliseconds(500)
        configuration.informer.minimumWatchTimeout = .seconds(30)
        configuration.informer.backoff = ExponentialBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        return configuration
    }

    // MARK: Cluster content

    static func createNode(_ client: KubeClient, _ name: String) async throws {
        _ = try await client.create(DynamicObject(type: .nodes, metadata: ObjectMeta(name: name)), .nodes)
    }

    /// A running pod with started containers, created then given its status as the kubelet would.
    static func createPod(
        _ client: KubeClient, _ name: String, namespace: String = "shop", node: String, labels: [String: String],
        containers: [String] = ["app"], owner: OwnerReference? = nil, containerIDs: Bool = true
    ) async throws {
        var metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
        if let owner { metadata.ownerReferences = [owner] }
        let pod = DynamicObject(
            type: .pods, metadata: metadata,
            fields: ["spec": ["nodeName": .string(node), "containers": .array(containers.map { ["name": .string($0), "image": "example/app:1"] })]])
        var created = try await client.create(pod, .pods)
        created["status"] = podStatus(name: name, containers: containers, ids: containerIDs)
        _ = try await client.update(created, .pods, subresource: "status")
    }

    static func podStatus(name: String, containers: [String], ids: Bool, generation: Int = 0) -> JSONValue {
        [
            "phase": "Running",
            "containerStatuses": .array(
                containers.map { container in
                    var status: JSONValue = ["name": .string(container), "ready": .bool(ids)]
                    if ids { status["containerID"] = .string("containerd://\(name)-\(container)-\(generation)") }
                    return status
                }),
        ]
    }

    static func createPolicy(_ client: KubeClient, _ name: String, namespace: String = "shop", spec: JSONValue) async throws {
        let policy = DynamicObject(type: .instrumentationPolicies, metadata: ObjectMeta(name: name, namespace: namespace), fields: ["spec": spec])
        _ = try await client.create(policy, .instrumentationPolicies)
    }

    /// Plays every node agent once: reports the current generation and its policies applied.
    static func agentsApply(_ client: KubeClient) async throws {
        for var object in try await client.listAll(NodeInstrumentation.self, .nodeInstrumentations, namespace: nil).items {
            let status = NodeInstrumentation.Status(
                observedGeneration: object.metadata.generation,
                policies: object.spec.policies.map { .init(namespace: $0.namespace, name: $0.name, generation: $0.generation) },
                processesAttached: Int64(object.spec.targets.count), kernelFeatures: ["raw_tracepoint", "ringbuf"])
            guard object.status != status else { continue }
            object.status = status
            _ = try await client.updateStatus(object, .nodeInstrumentations, fieldManager: "periscope-agent")
        }
    }

    // MARK: Observing

    /// Target pod names per node, `pod→policy`.
    static func targets(_ server: TestAPIServer) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (name, object) in server.objects(.nodeInstrumentations) {
            let targets = object.value(atPath: "spec.targets")?.arrayValue ?? []
            result[name] = targets.map { "\($0["name"]?.stringValue ?? "")→\($0["policy"]?.stringValue ?? "")" }
        }
        return result
    }

    static func status(_ server: TestAPIServer, _ policy: String, namespace: String = "shop") -> InstrumentationPolicyStatus? {
        try? server.objects(.instrumentationPolicies)["\(namespace)/\(policy)"]?["status"]?.decode(as: InstrumentationPolicyStatus.self)
    }

    /// Writes (not reads, not the Lease) that came with a user agent containing `agent`.
    static func controllerWrites(_ server: TestAPIServer, userAgent agent: String) -> [String] {
        server.requestsWithUserAgent.filter { record in
            !record.request.hasPrefix("GET") && !record.request.contains("/leases") && record.userAgent.contains(agent)
        }.map(\.request)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes.
    static func eventually(
        _ description: String, timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting: \(description)", sourceLocation: sourceLocation)
        throw HarnessTimeout(description: description)
    }

    struct HarnessTimeout: Error { var description: String }
}

/// A controller running in this process until `stop()`.
final class RunningController: Sendable {
    let controller: InstrumentationController
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(server: TestAPIServer, identity: String = "controller-a", configure: (inout ControllerConfiguration) -> Void = { _ in }) {
        var configuration = Harness.configuration(identity: identity)
        configure(&configuration)
        var logger = Logger(label: identity)
        logger.logLevel = .warning
        controller = InstrumentationController(
            client: Harness.client(server, userAgent: "periscope-controller/\(identity)"), configuration: configuration, logger: logger)
        group = ServiceGroup(services: [controller], logger: logger)
        let group = group
        task = Task { try await group.run() }
    }

    /// Graceful shutdown: the lease is released.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
