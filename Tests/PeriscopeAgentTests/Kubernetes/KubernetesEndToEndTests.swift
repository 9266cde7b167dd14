import Foundation
import Logging
import PeriscopeAPI
import PeriscopeKube
import PeriscopeKubeTestServer
import PeriscopeTestSupport
import Testing

/// One machine as a small cluster: the test API server, periscope-controller, two agents for
/// the nodes node-a and node-b, and "pods" that are real HTTP servers placed in cgroups laid
/// out as a kubelet lays them out. Policies go in with kubectl.
@Suite(.serialized) struct KubernetesEndToEndTests {
    static let receiverPort: UInt16 = testPort(18931)
    static let webPort: UInt16 = testPort(18932)
    static let apiPort: UInt16 = testPort(18933)
    static let otherPort: UInt16 = testPort(18934)
    static let restartedPort: UInt16 = testPort(18935)
    static let execPort: UInt16 = testPort(18936)

    final class Cluster {
        let server: TestAPIServer
        let proxy: TLSProxy
        let client: KubeClient
        let directory: String
        let kubeconfig: String
        let tlsKubeconfig: String
        var processes: [TestProcess] = []
        var cgroups: [KubeletCgroup] = []
        var controller: TestProcess?

        init() throws {
            var configuration = TestAPIServer.Configuration()
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().path
            configuration.crdFiles = ["\(root)/crds/instrumentationpolicy.yaml", "\(root)/crds/nodeinstrumentation.yaml"]
            configuration.namespaces = ["default", "periscope-system", "shop", "other"]
            configuration.bookmarkInterval = .milliseconds(500)
            server = try TestAPIServer(configuration: configuration)
            try server.start()
            proxy = try TLSProxy(upstreamPort: server.port)
            directory = try KubeletCgroup.temporaryDirectory()
            kubeconfig = "\(directory)/kubeconfig"
            tlsKubeconfig = "\(directory)/kubeconfig-tls"
            try Self.kubeconfig(server.url, ca: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            try Self.kubeconfig(proxy.url, ca: proxy.caFile).write(toFile: tlsKubeconfig, atomically: true, encoding: .utf8)
            client = KubeClient(configuration: KubeClientConfiguration(server: server.url, credentials: .token("test-token")), logger: Logger(label: "test"))
        }

        static func kubeconfig(_ server: String, ca: String?) -> String {
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: test, cluster: {server: "\(server)"\(ca.map { ", certificate-authority: \($0)" } ?? "")}}]
            users: [{name: test, user: {token: test-token}}]
            contexts: [{name: test, context: {cluster: test, user: test, namespace: periscope-system}}]
            current-context: test
            """
        }

        func stop() {
            for process in processes.reversed() { process.stop() }
            controller?.stop()
            for cgroup in cgroups.reversed() { cgroup.remove() }
            proxy.stop()
            server.stop()
        }

        func binary(_ name: String) throws -> String {
            let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for directory in [bundle, bundle.deletingLastPathComponent()] {
                let candidate = directory.appendingPathComponent(name).path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            throw TestFailure("\(name) is not built next to \(bundle.path); run `swift build --build-tests` first")
        }

        func startController() throws {
            controller = try TestProcess(try binary("periscope-controller"), [
                "--kubeconfig", kubeconfig, "--identity", "controller-0", "--lease-namespace", "periscope-system", "--health-port", "0",
            ])
        }

        /// - Parameter ownExport: whether the agent has an export of its own (the shared receiver).
        func startAgent(node: String, ownExport: Bool = true) throws -> TestProcess {
            var environment = ["OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_METRIC_EXPORT_INTERVAL": "300"]
            if ownExport { environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(KubernetesEndToEndTests.receiverPort)" }
            let agent = try TestProcess(
                try binary("periscope-agent"), ["--node-name", node, "--kubeconfig", kubeconfig, "--output", "json"],
                environment: environment, separateStandardError: true)
            processes.append(agent)
            return agent
        }

        func kubectlApply(_ yaml: String) throws {
            let file = "\(directory)/policy-\(UUID().uuidString.prefix(6)).yaml"
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            let output = try run("/usr/bin/kubectl", ["--kubeconfig", tlsKubeconfig, "apply", "-f", file])
            #expect(output.contains("instrumentationpolicy.periscope.dev/"), "\(output)")
        }

        func createNode(_ name: String) async throws {
            _ = try await client.create(DynamicObject(type: .nodes, metadata: ObjectMeta(name: name)), .nodes)
        }

        /// A running pod of one container `app` on `node`; returns its uid.
        func createPod(
            _ name: String, namespace: String, node: String, labels: [String: String] = [:], annotations: [String: String] = [:],
            owner: OwnerReference? = nil
        ) async throws -> String {
            var metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
            metadata.annotations = annotations.isEmpty ? nil : annotations
            if let owner { metadata.ownerReferences = [owner] }
            let pod = DynamicObject(
                type: .pods, metadata: metadata,
                fields: ["spec": ["nodeName": .string(node), "containers": [["name": "app", "image": "example/app:1"]]]])
            return try #require(try await client.create(pod, .pods).metadata.uid)
        }

        /// The kubelet's report that container `app` runs as `containerID`.
        func setContainerID(_ pod: String, namespace: String, containerID: String) async throws {
            var object = try await client.get(DynamicObject.self, .pods, namespace: namespace, name: pod)
            object["status"] = [
                "phase": "Running",
                "containerStatuses": [["name": "app", "ready": true, "containerID": .string("containerd://\(containerID)")]],
            ]
            _ = try await client.update(object, .pods, subresource: "status")
        }

        /// A python HTTP server moved into a new cgroup of `layout` for the pod.
        func startPodProcess(port: UInt16, podUID: String, layout: KubeletCgroup.Layout) throws -> (TestProcess, KubeletCgroup) {
            let cgroup = try KubeletCgroup(layout: layout, podUID: podUID)
            cgroups.append(cgroup)
            let server = try startPythonServer(port: port, directory: directory)
            processes.append(server)
            try cgroup.add(pid: server.pid)
            return (server, cgroup)
        }

        func nodeStatus(_ node: String) -> NodeInstrumentation? {
            try? server.objects(.nodeInstrumentations)[node]?.decode(as: NodeInstrumentation.self)
        }

        /// Waits until `node`'s agent reports the current generation with `processes` attached.
        func waitUntilApplied(_ node: String, processes: Int64, timeout: Duration = .seconds(20)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let object = nodeStatus(node), object.isApplied, object.status?.processesAttached == processes { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw TestFailure("\(node) not applied with \(processes) processes: \(String(describing: nodeStatus(node)))")
        }
    }

    @Test func policiesAppliedWithKubectlYieldDecoratedSpansFromSelectedPodsOnlyAndFollowEditsAndRestarts() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        let receiver = try OTLPReceiver(port: Self.receiverPort)
        defer { receiver.kill() }

        for node in ["node-a", "node-b"] { try await cluster.createNode(node) }
        // web-1: a Deployment's pod (through its ReplicaSet) on node-a, systemd layout.
        var rsMeta = ObjectMeta(name: "web-5d8f", namespace: "shop", labels: ["app": "web"])
        rsMeta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-1", controller: true)]
        let createdRS = try await cluster.client.create(DynamicObject(type: .replicaSets, metadata: rsMeta, fields: [:]), .replicaSets)
        let webUID = try await cluster.createPod(
            "web-5d8f-x1", namespace: "shop", node: "node-a", labels: ["app": "web"],
            owner: OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d8f", uid: createdRS.metadata.uid ?? "", controller: true))
        // api-0: a StatefulSet's pod on node-b naming its service in an annotation, cgroupfs layout.
        let apiUID = try await cluster.createPod(
            "api-0", namespace: "shop", node: "node-b", labels: ["app": "api"],
            annotations: ["resource.opentelemetry.io/service.name": "api-svc"],
            owner: OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: "api", uid: "s-1", controller: true))
        // other-1: another namespace, node-a; never selected.
        let otherUID = try await cluster.createPod("other-1", namespace: "other", node: "node-a", labels: ["app": "web"])

        let (_, webCgroup) = try cluster.startPodProcess(port: Self.webPort, podUID: webUID, layout: .systemd)
        let (apiProcess, apiCgroup) = try cluster.startPodProcess(port: Self.apiPort, podUID: apiUID, layout: .cgroupfs)
        let (_, otherCgroup) = try cluster.startPodProcess(port: Self.otherPort, podUID: otherUID, layout: .systemd)
        try await cluster.setContainerID("web-5d8f-x1", namespace: "shop", containerID: webCgroup.containerID)
        try await cluster.setContainerID("api-0", namespace: "shop", containerID: apiCgroup.containerID)
        try await cluster.setContainerID("other-1", namespace: "other", containerID: otherCgroup.containerID)

        try cluster.startController()
        let agentA = try cluster.startAgent(node: "node-a")
        let agentB = try cluster.startAgent(node: "node-b")

        try cluster.kubectlApply("""
            apiVersion: periscope.dev/v1alpha1
            kind: InstrumentationPolicy
            metadata: {name: shop-all, namespace: shop}
            spec:
              podSelector: {}
              resourceAttributes: {deployment.environment: test}
            """)
        try await cluster.waitUntilApplied("node-a", processes: 1)
        try await cluster.waitUntilApplied("node-b", processes: 1)
        let statusA = try #require(cluster.nodeStatus("node-a")?.status)
        #expect(statusA.kernelFeatures?.contains("ringbuf") == true)
        #expect(statusA.policies?.map(\.name) == ["shop-all"])
        #expect(statusA.lastError == nil)

        for port in [Self.webPort, Self.apiPort, Self.otherPort] { _ = try httpGet(port: port, path: "/") }
        let web = try await receiver.waitForSpans(count: 1) { $0.resource["k8s.pod.name"] as? String == "web-5d8f-x1" }
        let api = try await receiver.waitForSpans(count: 1) { $0.resource["k8s.pod.name"] as? String == "api-0" }
        let webResource = try #require(web.first?.resource)
        #expect(webResource["k8s.namespace.name"] as? String == "shop")
        #expect(webResource["k8s.pod.uid"] as? String == webUID)
        #expect(webResource["k8s.container.name"] as? String == "app")
        #expect(webResource["k8s.node.name"] as? String == "node-a")
        #expect(webResource["k8s.deployment.name"] as? String == "web")
        #expect(webResource["service.name"] as? String == "web")
        #expect(webResource["service.namespace"] as? String == "shop")
        #expect(webResource["deployment.environment"] as? String == "test")
        // The agent's own output names the pod too.
        let printed = agentA.log.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        let printedWeb = printed.first { ($0["resource"] as? [String: Any])?["k8s.pod.name"] as? String == "web-5d8f-x1" }
        #expect(printedWeb != nil, "a printed span carries the web pod's resource")
        #expect((printedWeb?["resource"] as? [String: Any])?["k8s.namespace.name"] as? String == "shop")
        let apiResource = try #require(api.first?.resource)
        #expect(apiResource["k8s.statefulset.name"] as? String == "api")
        #expect(apiResource["service.name"] as? String == "api-svc")
        #expect(apiResource["k8s.node.name"] as? String == "node-b")
        // Only the selected pods, each from its own node's agent.
        try await Task.sleep(for: .seconds(1))
        #expect(!receiver.spans.contains { ($0.resource["k8s.namespace.name"] as? String) != "shop" })
        #expect(!receiver.spans.contains { span in
            guard let local = span.int("server.port") ?? span.int("net.host.port") else { return false }
            return local == Int(Self.otherPort)
        })

        // An edit narrows the policy to app=api: web stops being traced, nothing restarts.
        try cluster.kubectlApply("""
            apiVersion: periscope.dev/v1alpha1
            kind: InstrumentationPolicy
            metadata: {name: shop-all, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: api}}
            """)
        try await cluster.waitUntilApplied("node-a", processes: 0)
        let webBefore = receiver.spans.filter { $0.resource["k8s.pod.name"] as? String == "web-5d8f-x1" }.count
        let apiBefore = receiver.spans.filter { $0.resource["k8s.pod.name"] as? String == "api-0" }.count
        _ = try httpGet(port: Self.webPort, path: "/")
        _ = try httpGet(port: Self.apiPort, path: "/")
        _ = try await receiver.waitForSpans(count: apiBefore + 1) { $0.resource["k8s.pod.name"] as? String == "api-0" }
        try await Task.sleep(for: .seconds(1))
        #expect(receiver.spans.filter { $0.resource["k8s.pod.name"] as? String == "web-5d8f-x1" }.count == webBefore)
        #expect(agentA.isRunning && agentB.isRunning)

        // api-0 "restarts": its process ends, a new one starts in a new container ID, and the
        // kubelet reports the new ID.
        let generationBefore = cluster.nodeStatus("node-b")?.metadata.generation ?? 0
        apiProcess.stop()
        let restarted = try cluster.startPodProcess(port: Self.restartedPort, podUID: apiUID, layout: .cgroupfs)
        try await cluster.setContainerID("api-0", namespace: "shop", containerID: restarted.1.containerID)
        let deadline = ContinuousClock.now + .seconds(15)
        while (cluster.nodeStatus("node-b")?.metadata.generation ?? 0) <= generationBefore, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await cluster.waitUntilApplied("node-b", processes: 1)
        _ = try httpGet(port: Self.restartedPort, path: "/")
        let afterRestart = try await receiver.waitForSpans(count: 1) { span in
            span.resource["k8s.pod.name"] as? String == "api-0" && span.pid == restarted.0.pid
        }
        #expect(afterRestart.first?.resource["service.name"] as? String == "api-svc")

        // Another process starts in the running container (as `kubectl exec` would start one):
        // a request it serves one second later is traced.
        let execed = try startPythonServer(port: Self.execPort, directory: cluster.directory)
        cluster.processes.append(execed)
        try restarted.1.add(pid: execed.pid)
        try await Task.sleep(for: .seconds(1))
        _ = try httpGet(port: Self.execPort, path: "/")
        let fromExeced = try await receiver.waitForSpans(count: 1) { span in
            span.resource["k8s.pod.name"] as? String == "api-0" && span.pid == execed.pid
        }
        #expect(fromExeced.count == 1)

        // A node goes away: the controller deletes its object; the agents only ever read theirs.
        try await cluster.client.delete(.nodes, namespace: nil, name: "node-b")
        let deletionDeadline = ContinuousClock.now + .seconds(15)
        while cluster.nodeStatus("node-b") != nil, ContinuousClock.now < deletionDeadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(cluster.nodeStatus("node-b") == nil)

        // RBAC grants exactly what each component called, nothing more.
        let manifests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("manifests").path
        for (component, userAgent) in [("periscope-agent", "periscope-agent/"), ("periscope-controller", "periscope-controller/")] {
            let granted = try APICall.granted(byRolesNamed: component, inManifestsAt: manifests)
            // The controller's first apply of each node object created it.
            let calls = cluster.server.requestsWithUserAgent.filter { $0.userAgent.hasPrefix(userAgent) }
                .flatMap { APICall.calls(logLine: $0.request, creates: component == "periscope-controller") }
            let used = APICall.normalized(calls, against: granted)
            #expect(!calls.isEmpty, "\(component) made no calls")
            #expect(used.subtracting(granted).isEmpty, "\(component) calls what its roles do not grant: \(used.subtracting(granted))")
            #expect(granted.subtracting(used).isEmpty, "\(component)'s roles grant what it never calls: \(granted.subtracting(used))")
        }
    }

    /// Two namespaces on one node, each with a policy exporting to its own receiver, and an
    /// agent without an export of its own: each receiver gets exactly its namespace's spans and
    /// metrics, never the other's and never the agent's health; one namespace's policy excluding
    /// the other namespace's process by pid leaves it traced.
    @Test func eachNamespacesTelemetryGoesOnlyToItsOwnPolicysExport() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        let shopReceiver = try OTLPReceiver(port: testPort(18937))
        defer { shopReceiver.kill() }
        let otherReceiver = try OTLPReceiver(port: testPort(18938))
        defer { otherReceiver.kill() }

        try await cluster.createNode("node-a")
        let shopUID = try await cluster.createPod("shop-1", namespace: "shop", node: "node-a", labels: ["app": "web"])
        let otherUID = try await cluster.createPod("other-1", namespace: "other", node: "node-a", labels: ["app": "web"])
        let (_, shopCgroup) = try cluster.startPodProcess(port: testPort(18939), podUID: shopUID, layout: .systemd)
        let (otherProcess, otherCgroup) = try cluster.startPodProcess(port: testPort(18940), podUID: otherUID, layout: .cgroupfs)
        try await cluster.setContainerID("shop-1", namespace: "shop", containerID: shopCgroup.containerID)
        try await cluster.setContainerID("other-1", namespace: "other", containerID: otherCgroup.containerID)
        try cluster.startController()
        let agent = try cluster.startAgent(node: "node-a", ownExport: false)

        try cluster.kubectlApply("""
            apiVersion: periscope.dev/v1alpha1
            kind: InstrumentationPolicy
            metadata: {name: shop-all, namespace: shop}
            spec:
              podSelector: {}
              exclude: {pids: [\(otherProcess.pid)]}
              export: {otlp: {endpoint: "http://127.0.0.1:\(testPort(18937))"}}
              resourceAttributes: {tenant: shop}
            """)
        try cluster.kubectlApply("""
            apiVersion: periscope.dev/v1alpha1
            kind: InstrumentationPolicy
            metadata: {name: other-all, namespace: other}
            spec:
              podSelector: {}
              export: {otlp: {endpoint: "http://127.0.0.1:\(testPort(18938))"}}
              resourceAttributes: {tenant: other}
            """)
        try await cluster.waitUntilApplied("node-a", processes: 2)
        for _ in 0..<3 {
            _ = try httpGet(port: testPort(18939), path: "/")
            _ = try httpGet(port: testPort(18940), path: "/")
        }
        func inNamespace(_ namespace: String) -> (ReceivedSpan) -> Bool {
            { $0.kind == 2 && $0.resource["k8s.namespace.name"] as? String == namespace }
        }
        let shopSpans = try await shopReceiver.waitForSpans(count: 3, where: inNamespace("shop"))
        let otherSpans = try await otherReceiver.waitForSpans(count: 3, where: inNamespace("other"))
        try await Task.sleep(for: .seconds(2))
        #expect(agent.isRunning)

        #expect(shopSpans.count == 3 && otherSpans.count == 3, "the other namespace's pod is traced despite shop's exclusion of its pid")
        for (receiver, namespace) in [(shopReceiver, "shop"), (otherReceiver, "other")] {
            #expect(!receiver.spans.isEmpty)
            #expect(receiver.spans.allSatisfy { $0.resource["k8s.namespace.name"] as? String == namespace }, "\(namespace)'s receiver got only \(namespace)'s spans")
            #expect(receiver.spans.allSatisfy { $0.resource["tenant"] as? String == namespace })
            let metrics = receiver.latestMetrics
            #expect(!metrics.isEmpty, "\(namespace)'s receiver got metrics")
            #expect(metrics.allSatisfy { ($0["resource"] as? [String: Any])?["k8s.namespace.name"] as? String == namespace },
                    "\(namespace)'s receiver got only \(namespace)'s metrics, and not the agent's health")
            let requests = metrics.filter { $0["name"] as? String == "http.server.request.duration" }
                .flatMap { $0["points"] as? [[String: Any]] ?? [] }.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
            #expect(requests == 3)
        }
    }
}
