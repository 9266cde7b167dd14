import Foundation
import PeriscopeTestSupport

/// The `periscope-agent` executable running against the real kernel with
/// `--output json`, as an operator runs it; spans are read back from its output.
final class AgentHarness: @unchecked Sendable {
    let process: TestProcess
    let policyPath: String
    private let directory: TemporaryDirectory
    private(set) var exitStatus: Int32?

    /// Writes `policy` to a file, starts the agent on it and waits until its programs
    /// are attached and the policy applied.
    init(policy: String, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        directory = try TemporaryDirectory()
        policyPath = try directory.write("policy.yaml", policy)
        process = try TestProcess(
            try Self.executablePath, ["--config", policyPath, "--output", "json"] + arguments,
            environment: environment, separateStandardError: true
        )
        // Loading takes a second or two (the verifier); on a busy machine many more.
        let deadline = ContinuousClock.now + .seconds(60)
        while !process.errorLog.contains("agent.ready") {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw TestFailure("the agent did not become ready within 60 s:\n\(process.errorLog)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Arguments for a test that counts every span of a burst and links both ends of each hop,
    /// on a machine as busy as CI's (other suites, other agents). A ring buffer the burst cannot
    /// fill halfway, where the kernel starts shedding, however long the agent waits for a CPU
    /// (64 MiB, the default 4). The longest reorder window (1 s, the default 20 ms): a writer
    /// preempted at the end of its `write` comes after its reader by as long as it waits for a
    /// CPU, and a server request whose caller comes later than the window starts its own trace.
    static let burstArguments = ["--ring-buffer-bytes", "\(64 << 20)", "--reorder-window", "1000"]

    /// What a burst test says when spans are missing or unlinked: the counters that tell why.
    static func burstMetrics(_ metrics: [String: Int]) -> String {
        ["events_lost", "events_shed", "requests_shed", "connections_shed", "callers_late", "callers_missed", "decode_errors"]
            .map { "\($0)=\(metrics[$0].map(String.init) ?? "?")" }.joined(separator: " ")
    }

    /// The `periscope-agent` built next to this test bundle.
    static var executablePath: String {
        get throws {
            let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for directory in [bundle, bundle.deletingLastPathComponent()] {
                let candidate = directory.appendingPathComponent("periscope-agent").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            throw TestFailure("periscope-agent is not built next to \(bundle.path); run `swift build --build-tests` first")
        }
    }

    /// Replaces the policy file atomically, as editors and ConfigMap updates do.
    func updatePolicy(_ policy: String) throws {
        try policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
    }

    /// Every span printed so far; a line still being written is left for the next read.
    var spans: [PrintedSpan] {
        get throws {
            let log = process.log
            let complete = log.hasSuffix("\n") ? log[...] : log[..<(log.lastIndex(of: "\n") ?? log.startIndex)]
            return try complete.split(separator: "\n").map { try PrintedSpan(jsonLine: $0) }
        }
    }

    /// Waits until `count` spans satisfy `predicate` (or the timeout passes) and returns them.
    @discardableResult
    func waitForSpans(
        count: Int = 1, timeout: Duration = .seconds(10), where predicate: (PrintedSpan) -> Bool = { _ in true }
    ) async throws -> [PrintedSpan] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let matching = try spans.filter(predicate)
            if matching.count >= count || ContinuousClock.now >= deadline { return matching }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Waits until the agent's log says `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !process.errorLog.contains(text) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw TestFailure("the agent never logged \(text):\n\(process.errorLog)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends SIGTERM, waits for a clean exit and returns the self-metrics it printed.
    @discardableResult
    func stop() throws -> [String: Int] {
        let status = process.stop(signal: SIGTERM)
        exitStatus = status
        guard status == 0 else {
            throw TestFailure("the agent exited with status \(status):\n\(process.errorLog)")
        }
        return metrics
    }

    /// `periscope_<name> <value>` lines the agent printed on standard error, last value wins.
    var metrics: [String: Int] {
        var values: [String: Int] = [:]
        for line in process.errorLog.split(separator: "\n") where line.hasPrefix("periscope_") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int(parts[1]) {
                values[String(parts[0].dropFirst("periscope_".count))] = value
            }
        }
        return values
    }
}

/// One span as printed by `--output json`.
struct PrintedSpan: Sendable {
    let kind: String
    let name: String
    let traceID: String
    let spanID: String
    let parentSpanID: String?
    let start: UInt64
    let end: UInt64
    /// `STATUS_CODE_UNSET`, `STATUS_CODE_OK` or `STATUS_CODE_ERROR`.
    let status: String
    private let strings: [String: String]
    private let ints: [String: Int]

    init(jsonLine: Substring) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(jsonLine)")
        }
        kind = object["kind"] as? String ?? ""
        name = object["name"] as? String ?? ""
        traceID = object["traceId"] as? String ?? ""
        spanID = object["spanId"] as? String ?? ""
        parentSpanID = object["parentSpanId"] as? String
        start = UInt64(object["startTimeUnixNano"] as? String ?? "") ?? 0
        end = UInt64(object["endTimeUnixNano"] as? String ?? "") ?? 0
        status = (object["status"] as? [String: Any])?["code"] as? String ?? ""
        let attributes = object["attributes"] as? [String: Any] ?? [:]
        strings = attributes.compactMapValues { $0 as? String }
        ints = attributes.compactMapValues { $0 as? Int }
    }

    var isServer: Bool { kind == "SPAN_KIND_SERVER" }
    var isClient: Bool { kind == "SPAN_KIND_CLIENT" }
    var duration: UInt64 { end >= start ? end - start : 0 }

    func string(_ key: String) -> String? { strings[key] }
    func int(_ key: String) -> Int? { ints[key] }

    var isHTTP: Bool { string("http.request.method") != nil }
    var isTCP: Bool { int("periscope.tcp.bytes_sent") != nil }
    var pid: Int32 { Int32(int("process.pid") ?? -1) }
    var executable: String { string("process.executable.path") ?? "" }
    var method: String? { string("http.request.method") }
    var path: String? { string("url.path") }
    var statusCode: Int? { int("http.response.status_code") }
    var requestBodySize: Int? { int("http.request.body.size") }
    var responseBodySize: Int? { int("http.response.body.size") }
    var localPort: Int? { int("network.local.port") }
    var peerPort: Int? { int("network.peer.port") }
    var bytesSent: Int? { int("periscope.tcp.bytes_sent") }
    var bytesReceived: Int? { int("periscope.tcp.bytes_received") }
}
