import Foundation
import Logging
import PeriscopeAPI
import PeriscopeController
import PeriscopeKube
import PeriscopeKubeTestServer

#if canImport(Glibc)
import Glibc
#endif

/// Scale benchmark of `periscope-controller`: builds a cluster of BENCH_NODES nodes, BENCH_PODS
/// running pods (half owned by Deployments through ReplicaSets) and BENCH_POLICIES policies on a
/// real API server (BENCH_KUBECONFIG, as `hack/bench-controller.sh` starts one) or on the
/// in-process test API server, starts the controller executable (a separate process, so its CPU
/// and RSS are its own) and reports:
/// - time from start to the first full resolution (every node object, target and status);
/// - pod change → node object latency (median, p95, max) for restarts, label-only changes,
///   moves out of and into policies, creates and deletes, as a watch on the node objects sees it;
/// - API writes per change against the minimum (node objects whose spec changed plus policies
///   whose status changed), the controller's CPU per change, its peak RSS;
/// - whether every node object and status equals a full resolution of the cluster, after the
///   start and after the changes.
@main
struct ControllerBenchmark {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let nodeCount = Int(environment["BENCH_NODES"] ?? "") ?? 500
        let podCount = Int(environment["BENCH_PODS"] ?? "") ?? 5000
        let policyCount = Int(environment["BENCH_POLICIES"] ?? "") ?? 200
        let changes = Int(environment["BENCH_CHANGES"] ?? "") ?? 20
        let starts = max(1, Int(environment["BENCH_STARTS"] ?? "") ?? 1)
        guard CommandLine.arguments.count == 3 else {
            FileHandle.standardError.write(Data("usage: periscope-controller-bench CRD_DIRECTORY CONTROLLER_EXECUTABLE\n".utf8))
            exit(2)
        }
        let crds = CommandLine.arguments[1]
        let executable = CommandLine.arguments[2]
        var logger = Logger(label: "bench")
        logger.logLevel = .error

        let namespaceCount = max(1, policyCount / 4)
        let namespaces = (0..<namespaceCount).map { "ns-\($0)" }
        let directory = NSTemporaryDirectory() + "periscope-controller-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // The API server: a real one given by its kubeconfig, or the test server.
        var testServer: TestAPIServer?
        let kubeconfig: String
        if let given = environment["BENCH_KUBECONFIG"] {
            kubeconfig = given
            report("API server: real (\(try Kubeconfig.load(paths: [given]).configuration(context: nil).server))")
        } else {
            var configuration = TestAPIServer.Configuration()
            configuration.crdFiles = ["\(crds)/instrumentationpolicy.yaml", "\(crds)/nodeinstrumentation.yaml"]
            configuration.namespaces = ["default", "kube-system"] + namespaces
            let server = try TestAPIServer(configuration: configuration)
            try server.start()
            testServer = server
            kubeconfig = "\(directory)/kubeconfig"
            try """
                apiVersion: v1
                kind: Config
                clusters: [{name: bench, cluster: {server: "\(server.url)"}}]
                users: [{name: bench, user: {token: test-token}}]
                contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: kube-system}}]
                current-context: bench
                """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            report("API server: in-process test server")
        }
        defer { testServer?.stop() }
        let client = KubeClient(configuration: try Kubeconfig.load(paths: [kubeconfig]).configuration(context: nil), logger: logger)
        let cluster = BenchCluster(client: client, nodeCount: nodeCount, podCount: podCount, namespaces: namespaces)

        let clock = ContinuousClock()
        let setupStart = clock.now
        if testServer == nil { try await cluster.createNamespaces() }
        try await cluster.populate(policyCount: policyCount)
        report("setup: \(nodeCount) nodes, \(podCount) pods, \(policyCount) policies in \(namespaceCount) namespaces, \(format(clock.now - setupStart))")

        // The bench's own view of the node objects and policies, kept by watches.
        let nodeObjects = Informer<NodeInstrumentation>(client: client, resource: .nodeInstrumentations, logger: logger)
        let policies = Informer<InstrumentationPolicy>(client: client, resource: .instrumentationPolicies, logger: logger)
        let watches = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { try? await nodeObjects.run() }
                group.addTask { try? await policies.run() }
            }
        }
        defer { watches.cancel() }
        await nodeObjects.waitForSync()
        await policies.waitForSync()

        // First full resolution, `starts` times: between two, the controller is stopped and
        // what it wrote taken back. With BENCH_COMPARE (another controller executable) the
        // starts alternate between the two, under the same load; the changes run on the first.
        let executables = [environment["BENCH_COMPARE"], executable].compactMap { $0 }
        var controller = try BenchController(executable: executables[0], kubeconfig: kubeconfig)
        defer { controller.stop() }
        let marker: @Sendable () -> [String?] = { [nodeObjects.resourceVersion, policies.resourceVersion] }
        var firstResolutions: [String: [Duration]] = [:]
        var startCorrect: [String] = []
        for attempt in 0..<(starts * executables.count) {
            let measured = executables[attempt % executables.count]
            if attempt > 0 {
                controller.stop()
                try await cluster.clearControllerWrites(policies: policies.objects)
                try await waitUntil("node objects and statuses cleared", clock: clock, marker: marker) {
                    nodeObjects.objects.isEmpty && !policies.objects.contains { $0.status?.observedGeneration != nil }
                }
                controller = try BenchController(executable: measured, kubeconfig: kubeconfig)
            }
            let start = clock.now
            try controller.start()
            try await waitUntil("first full resolution", clock: clock, marker: marker) {
                let objects = nodeObjects.objects
                let targets = objects.reduce(0) { $0 + $1.spec.targets.count }
                let statuses = policies.objects.filter { $0.status?.observedGeneration != nil }.count
                return objects.count == nodeCount && targets == podCount && statuses == policyCount
            }
            let firstResolution = clock.now - start
            firstResolutions[measured, default: []].append(firstResolution)
            let which = executables.count > 1 ? " [\(measured)]" : ""
            report("first full resolution: \(format(firstResolution)) from start (\(try await controller.writes()) writes; load average \(loadAverage()))\(which)")
            try await Task.sleep(for: .seconds(1))
            startCorrect = try await cluster.verify(nodeObjects: nodeObjects, policies: policies)
            report("after start: \(startCorrect.isEmpty ? "every node object and status correct" : "\(startCorrect.count) differences: \(startCorrect.prefix(3))")")
            if !startCorrect.isEmpty { break }
        }
        for measured in executables where (firstResolutions[measured]?.count ?? 0) > 1 {
            let times = firstResolutions[measured]!.sorted()
            report(
                "first full resolution over \(times.count) starts: median \(format(times[times.count / 2])), min \(format(times.first!)), max \(format(times.last!))"
                    + (executables.count > 1 ? " [\(measured)]" : ""))
        }
        let ownTimes = (firstResolutions[executable] ?? []).sorted()
        let firstResolution = ownTimes.isEmpty ? Duration.zero : ownTimes[ownTimes.count / 2]
        if changes == 0 {
            report("first resolution \(format(firstResolution)); load average \(loadAverage())")
            controller.stop()
            if !startCorrect.isEmpty { throw BenchFailure("node objects or statuses differ from a full resolution") }
            return
        }

        // Pod changes, one at a time, each kind `changes` times.
        report("")
        report("pod change → node object (\(changes) changes each)")
        report("change        median     p95      max   writes/change (minimum)   CPU/change")
        var allLatencies: [Duration] = []
        var allCPU: UInt64 = 0
        var allDifferences = 0
        for kind in BenchCluster.ChangeKind.allCases {
            var latencies: [Duration] = []
            var writes: [Int] = []
            var minimum: [Int] = []
            var cpu: UInt64 = 0
            for round in 0..<changes {
                let beforeSpecs = Dictionary(uniqueKeysWithValues: nodeObjects.objects.map { ($0.metadata.name ?? "", $0.spec) })
                let beforeStatuses = Dictionary(uniqueKeysWithValues: policies.objects.map { ($0.policyKey, $0.status) })
                let writesBefore = try await controller.writes()
                let cpuBefore = controller.cpuNanoseconds
                let change = try await cluster.change(kind, round: round)
                let changed = clock.now
                while !change.isDone(nodeObjects.object(forKey: change.node)?.spec) {
                    if clock.now - changed > .seconds(60) { throw BenchFailure("\(kind) \(round): node object not updated in 60 s") }
                    try await Task.sleep(for: .milliseconds(1))
                }
                latencies.append(clock.now - changed)
                try await Task.sleep(for: .milliseconds(400))
                cpu += controller.cpuNanoseconds - cpuBefore
                writes.append(try await controller.writes() - writesBefore)
                let specs = nodeObjects.objects
                var needed = specs.filter { beforeSpecs[$0.metadata.name ?? ""] != $0.spec }.count
                needed += policies.objects.filter { !InstrumentationPolicyReconciler.sameState($0.status, beforeStatuses[$0.policyKey] ?? nil) }.count
                minimum.append(needed)
            }
            latencies.sort()
            allLatencies += latencies
            allCPU += cpu
            allDifferences += zip(writes, minimum).filter { $0 != $1 }.count
            let p95 = latencies[min(latencies.count - 1, latencies.count * 95 / 100)]
            let meanWrites = Double(writes.reduce(0, +)) / Double(max(1, writes.count))
            let meanMinimum = Double(minimum.reduce(0, +)) / Double(max(1, minimum.count))
            report(
                kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(format: " %7.1f %7.1f %7.1f ms   %5.2f (%5.2f)", ms(latencies[latencies.count / 2]), ms(p95), ms(latencies.last!), meanWrites, meanMinimum)
                    + (writes == minimum ? "            " : " ≠ minimum  ") + String(format: "%6.2f ms", Double(cpu) / 1e6 / Double(max(1, changes))))
        }
        let endCorrect = try await cluster.verify(nodeObjects: nodeObjects, policies: policies)
        allLatencies.sort()
        report(
            String(
                format: "all          %7.1f %7.1f %7.1f ms   %d of %d changes wrote other than the minimum   %6.2f ms",
                ms(allLatencies[allLatencies.count / 2]), ms(allLatencies[min(allLatencies.count - 1, allLatencies.count * 95 / 100)]),
                ms(allLatencies.last!), allDifferences, allLatencies.count, Double(allCPU) / 1e6 / Double(max(1, allLatencies.count))))
        report("after changes: \(endCorrect.isEmpty ? "every node object and status correct" : "\(endCorrect.count) differences: \(endCorrect.prefix(3))")")
        let memory = controller.rss
        report("controller RSS: \(memory.current / 1024) MiB (peak \(memory.peak / 1024) MiB)")
        report("first resolution \(format(firstResolution)); load average \(loadAverage())")
        controller.stop()
        if !startCorrect.isEmpty || !endCorrect.isEmpty { throw BenchFailure("node objects or statuses differ from a full resolution") }
    }

    /// Polls `condition` every 10 ms, for at most 600 s; only when `marker` changed since the
    /// last look (the watches' resourceVersions: looking at every object 100 times a second
    /// would take CPU from the processes measured).
    static func waitUntil(
        _ what: String, clock: ContinuousClock, marker: @Sendable () -> [String?], _ condition: @Sendable () -> Bool
    ) async throws {
        let start = clock.now
        var seen: [String?]?
        while true {
            let now = marker()
            if now != seen {
                seen = now
                if condition() { return }
            }
            if clock.now - start > .seconds(600) { throw BenchFailure("\(what): not reached in 600 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// A line of the report, written at once (also into a pipe: a run cut short still shows
    /// what it measured).
    static func report(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func ms(_ duration: Duration) -> Double {
        (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) * 1000
    }

    static func format(_ duration: Duration) -> String {
        let milliseconds = ms(duration)
        return milliseconds < 1000 ? String(format: "%.1f ms", milliseconds) : String(format: "%.2f s", milliseconds / 1000)
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
