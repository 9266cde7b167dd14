import Foundation
import Logging
import PeriscopeAPI
import PeriscopeKube
import PeriscopeKubeTestServer

#if canImport(Glibc)
import Glibc
#endif

/// Scale benchmark of `periscope-controller` against the in-process test API server: builds a
/// cluster of BENCH_NODES nodes, BENCH_PODS running pods and BENCH_POLICIES policies, starts the
/// controller executable (a separate process, so its RSS is its own) and reports:
/// - time to first full resolution (every node object written, every pod targeted, every status);
/// - time from a pod change (a container restarted: new container ID) to its node's object updated;
/// - API writes per pod change;
/// - controller RSS (current and peak).
@main
struct ControllerBenchmark {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let nodeCount = Int(environment["BENCH_NODES"] ?? "") ?? 500
        let podCount = Int(environment["BENCH_PODS"] ?? "") ?? 5000
        let policyCount = Int(environment["BENCH_POLICIES"] ?? "") ?? 200
        let changes = Int(environment["BENCH_CHANGES"] ?? "") ?? 20
        guard CommandLine.arguments.count == 3 else {
            FileHandle.standardError.write(Data("usage: periscope-controller-bench CRD_DIRECTORY CONTROLLER_EXECUTABLE\n".utf8))
            exit(2)
        }
        let crds = CommandLine.arguments[1]
        let executable = CommandLine.arguments[2]

        // Four policies per namespace, each selecting a quarter of its pods.
        let namespaceCount = max(1, policyCount / 4)
        var serverConfiguration = TestAPIServer.Configuration()
        serverConfiguration.crdFiles = ["\(crds)/instrumentationpolicy.yaml", "\(crds)/nodeinstrumentation.yaml"]
        serverConfiguration.namespaces = ["default", "kube-system"] + (0..<namespaceCount).map { "ns-\($0)" }
        let server = try TestAPIServer(configuration: serverConfiguration)
        try server.start()
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let client = KubeClient(configuration: KubeClientConfiguration(server: server.url, credentials: .token("test-token")), logger: logger)

        let clock = ContinuousClock()
        let setupStart = clock.now
        try await concurrently(0..<nodeCount) { index in
            _ = try await client.create(DynamicObject(type: .nodes, metadata: ObjectMeta(name: "node-\(index)")), .nodes)
        }
        try await concurrently(0..<policyCount) { index in
            let policy = DynamicObject(
                type: .instrumentationPolicies, metadata: ObjectMeta(name: "policy-\(index % 4)", namespace: "ns-\(index / 4 % namespaceCount)"),
                fields: ["spec": ["podSelector": ["matchLabels": ["app": .string("app-\(index % 4)")]], "ports": [["port": .int(Int64(8000 + index % 4))]]]])
            _ = try await client.create(policy, .instrumentationPolicies)
        }
        try await concurrently(0..<podCount) { index in
            let name = "pod-\(index)"
            let namespace = "ns-\(index % namespaceCount)"
            let pod = DynamicObject(
                type: .pods, metadata: ObjectMeta(name: name, namespace: namespace, labels: ["app": .init("app-\(index % 4)")]),
                fields: ["spec": ["nodeName": .string("node-\(index % nodeCount)"), "containers": [["name": "app", "image": "example/app:1"]]]])
            var created = try await client.create(pod, .pods)
            created["status"] = podStatus(name, restart: 0)
            _ = try await client.update(created, .pods, subresource: "status")
        }
        print("setup: \(nodeCount) nodes, \(podCount) pods, \(policyCount) policies in \(namespaceCount) namespaces, \(format(clock.now - setupStart))")

        let directory = NSTemporaryDirectory() + "periscope-controller-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: bench, cluster: {server: "\(server.url)"}}]
            users: [{name: bench, user: {token: test-token}}]
            contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: kube-system}}]
            current-context: bench
            """.write(toFile: "\(directory)/kubeconfig", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--kubeconfig", "\(directory)/kubeconfig", "--identity", "bench", "--health-port", "0", "--log-level", "warning"]
        process.standardError = FileHandle.standardError
        let start = clock.now
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }

        // First full resolution.
        while true {
            let objects = server.objects(.nodeInstrumentations)
            let targets = objects.values.reduce(0) { $0 + ($1.value(atPath: "spec.targets")?.arrayValue?.count ?? 0) }
            let statuses = server.objects(.instrumentationPolicies).values.filter { $0["status"]?["observedGeneration"] != nil }.count
            if objects.count == nodeCount, targets == podCount, statuses == policyCount { break }
            if clock.now - start > .seconds(600) {
                print("first full resolution: not reached in 600 s (objects \(objects.count), targets \(targets), statuses \(statuses))")
                exit(1)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let firstResolution = clock.now - start
        print("time to first full resolution: \(format(firstResolution))")
        try await Task.sleep(for: .seconds(1))

        // Pod changes: one container restart at a time.
        var latencies: [Duration] = []
        var writesPerChange: [Int] = []
        for change in 0..<changes {
            let index = (change * 7919) % podCount
            let name = "pod-\(index)"
            let namespace = "ns-\(index % namespaceCount)"
            let node = "node-\(index % nodeCount)"
            let before = controllerWrites(server)
            var pod = try await client.get(DynamicObject.self, .pods, namespace: namespace, name: name)
            pod["status"] = podStatus(name, restart: change + 1)
            let changed = clock.now
            _ = try await client.update(pod, .pods, subresource: "status")
            let wanted = "containerd://\(name)-\(change + 1)"
            while true {
                let targets = server.objects(.nodeInstrumentations)[node]?.value(atPath: "spec.targets")?.arrayValue ?? []
                if targets.contains(where: { $0["containers"]?.arrayValue?.first?["id"]?.stringValue == wanted }) { break }
                if clock.now - changed > .seconds(60) { print("pod change \(change): node object not updated in 60 s"); exit(1) }
                try await Task.sleep(for: .milliseconds(2))
            }
            latencies.append(clock.now - changed)
            try await Task.sleep(for: .milliseconds(500))
            writesPerChange.append(controllerWrites(server) - before)
        }
        latencies.sort()
        print("pod change to node object updated: median \(format(latencies[latencies.count / 2])), p95 \(format(latencies[min(latencies.count - 1, latencies.count * 95 / 100)])), max \(format(latencies.last!)) over \(changes) changes")
        print("API writes per pod change: \(writesPerChange.map(String.init).joined(separator: " ")) (mean \(Double(writesPerChange.reduce(0, +)) / Double(max(1, changes))))")
        let memory = rss(process.processIdentifier)
        print("controller RSS: \(memory.current / 1024) MiB (peak \(memory.peak / 1024) MiB)")
        process.terminate()
        process.waitUntilExit()
        server.stop()
    }

    static func podStatus(_ name: String, restart: Int) -> JSONValue {
        [
            "phase": "Running",
            "containerStatuses": [["name": "app", "ready": true, "containerID": .string("containerd://\(name)-\(restart)")]],
        ]
    }

    /// Writes by the controller, Lease renewals excluded.
    static func controllerWrites(_ server: TestAPIServer) -> Int {
        server.requestsWithUserAgent.filter { !$0.request.hasPrefix("GET") && !$0.request.contains("/leases") && $0.userAgent.contains("periscope-controller") }.count
    }

    static func concurrently(_ range: Range<Int>, width: Int = 16, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = range.lowerBound
            while next < range.upperBound, next - range.lowerBound < width {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            while try await group.next() != nil, next < range.upperBound {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            try await group.waitForAll()
        }
    }

    /// VmRSS and VmHWM in KiB.
    static func rss(_ pid: Int32) -> (current: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int {
            let line = text.split(separator: "\n").first { $0.hasPrefix(key) } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return (value("VmRSS:"), value("VmHWM:"))
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }
}
