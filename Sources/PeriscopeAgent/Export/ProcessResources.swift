import PeriscopeCore
import PeriscopeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The OpenTelemetry resource of each traced process, built once per process from
/// `/proc/<pid>/environ` (for `OTEL_SERVICE_NAME`), its pod (in a cluster) and the
/// `resourceAttributes` of the policy it follows, and cached. The environ file belongs
/// to another process: at most `maximumEnvironBytes` are read and nothing in it is trusted.
public final class ProcessResources: Sendable {
    public static let maximumEnvironBytes = 128 * 1024
    static let cacheLimit = 4096

    public let procRoot: String
    public let hostName: String
    public let extra: [String: String]
    /// The agent's own resource, for its health metrics.
    public let agent: TelemetryResource
    private let cache = Mutex<[ProcessKey: TelemetryResource]>([:])
    private let decorations = Mutex<[Int32: PodDecoration]>([:])
    private let policyAttributes = Mutex<[PolicyID: [String: String]]>([:])

    /// - Parameter extra: attributes of the agent's own resource (and of processes whose
    ///   policy has none).
    public init(procRoot: String = "/proc", hostName: String = ProcessResources.currentHostName(), extra: [String: String] = [:]) {
        self.procRoot = procRoot
        self.hostName = hostName
        self.extra = extra
        agent = .agent(pid: getpid(), hostName: hostName, extra: extra)
    }

    public func resource(for process: ProcessKey?) -> TelemetryResource {
        guard let process else { return agent }
        if let cached = cache.withLock({ $0[process] }) { return cached }
        let serviceName = environ(of: process.pid).flatMap { ProcessEnvironment.value(of: "OTEL_SERVICE_NAME", in: $0) }
        let pod = decorations.withLock { $0[process.pid] }
        let policy = process.policy.flatMap { id in policyAttributes.withLock { $0[id] } } ?? extra
        let resource = TelemetryResource.process(
            pid: process.pid, executable: process.executable.isEmpty ? nil : process.executable,
            environmentServiceName: serviceName, hostName: hostName,
            extra: pod.map { $0.attributes.merging(policy) { pod, _ in pod } } ?? policy
        )
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[process] = resource
        }
        return resource
    }

    /// The pod attributes of each traced process in a Kubernetes pod (their `service.name`
    /// yields to the process's own `OTEL_SERVICE_NAME`). Replaces the previous set.
    /// The pod `pid` runs in, as the last plan said.
    public func decoration(of pid: Int32) -> PodDecoration? {
        decorations.withLock { $0[pid] }
    }

    /// The `resourceAttributes` of each policy in force; replaces the previous set.
    public func setPolicyAttributes(_ updated: [PolicyID: [String: String]]) {
        let changed = policyAttributes.withLock { current in
            defer { current = updated }
            return current != updated
        }
        if changed { cache.withLock { $0.removeAll(keepingCapacity: true) } }
    }

    public func setDecorations(_ updated: [Int32: PodDecoration]) {
        let changed = decorations.withLock { current in
            defer { current = updated }
            return current != updated
        }
        if changed { cache.withLock { $0.removeAll(keepingCapacity: true) } }
    }

    public func serviceName(for process: ProcessKey) -> String {
        resource(for: process).serviceName ?? "unknown_service"
    }

    /// The first `maximumEnvironBytes` of `/proc/<pid>/environ`, or nil when unreadable.
    func environ(of pid: Int32) -> [UInt8]? {
        System.readFile("\(procRoot)/\(pid)/environ", limit: Self.maximumEnvironBytes)
    }

    public static func currentHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
