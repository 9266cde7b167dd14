import Foundation
import PeriscopeTestSupport

/// hack/otlp/receiver.py: a real OTLP/HTTP receiver that decodes every request with the
/// official OpenTelemetry protobuf classes and records what it found, one JSON line per
/// request. Runs from the virtual environment hack/setup.sh prepares.
final class OTLPReceiver: @unchecked Sendable {
    static let python = "/opt/periscope/venv/bin/python"

    let port: UInt16
    let outputPath: String
    private(set) var process: TestProcess?
    private let directory: TemporaryDirectory

    init(port: UInt16, status: Int = 200) throws {
        self.port = port
        directory = try TemporaryDirectory()
        outputPath = directory.path + "/requests.jsonl"
        try start(status: status)
    }

    /// Starts (again) on the same port, appending to the same record.
    func start(status: Int = 200) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw TestFailure("\(Self.python) is missing: hack/setup.sh installs opentelemetry-proto and prometheus_client there")
        }
        let process = try TestProcess(Self.python, [
            try Self.script("receiver.py"), "--port", "\(port)", "--out", outputPath, "--status", "\(status)",
        ])
        try waitForPort(port, of: process)
        self.process = process
    }

    /// Kills it without warning, as a crashed collector goes.
    func kill() {
        process?.stop(signal: SIGKILL)
        process = nil
    }

    static func script(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("hack/otlp/\(name)").path
        guard FileManager.default.fileExists(atPath: path) else { throw TestFailure("\(path) is missing") }
        return path
    }

    /// Every request recorded so far.
    var requests: [[String: Any]] {
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Every span received, in arrival order.
    var spans: [ReceivedSpan] {
        requests.filter { $0["signal"] as? String == "traces" }
            .flatMap { ($0["spans"] as? [[String: Any]] ?? []).map(ReceivedSpan.init) }
    }

    /// The metrics of the last metrics request.
    var latestMetrics: [[String: Any]] {
        requests.last { $0["signal"] as? String == "metrics" }?["metrics"] as? [[String: Any]] ?? []
    }

    func waitForSpans(count: Int, timeout: Duration = .seconds(15), where predicate: (ReceivedSpan) -> Bool) async throws -> [ReceivedSpan] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let matching = spans.filter(predicate)
            if matching.count >= count || ContinuousClock.now >= deadline { return matching }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// One span as the official classes decoded it.
struct ReceivedSpan: @unchecked Sendable {
    let resource: [String: Any]
    let traceID: String
    let spanID: String
    let parentSpanID: String
    let name: String
    /// OTLP SpanKind: 2 server, 3 client.
    let kind: Int
    /// OTLP StatusCode: 0 unset, 2 error.
    let statusCode: Int
    let attributes: [String: Any]

    init(_ object: [String: Any]) {
        resource = object["resource"] as? [String: Any] ?? [:]
        traceID = object["traceId"] as? String ?? ""
        spanID = object["spanId"] as? String ?? ""
        parentSpanID = object["parentSpanId"] as? String ?? ""
        name = object["name"] as? String ?? ""
        kind = object["kind"] as? Int ?? 0
        statusCode = object["statusCode"] as? Int ?? -1
        attributes = object["attributes"] as? [String: Any] ?? [:]
    }

    func string(_ key: String) -> String? { attributes[key] as? String }
    func int(_ key: String) -> Int? { attributes[key] as? Int }
    var pid: Int32 { Int32(resource["process.pid"] as? Int ?? -1) }
}

/// Parses Prometheus text with prometheus_client's own parser (hack/otlp/parse-prometheus.py).
struct PrometheusSample: @unchecked Sendable {
    let family: String
    let name: String
    let labels: [String: String]
    let value: Double

    static func parse(_ text: String) throws -> [PrometheusSample] {
        let directory = try TemporaryDirectory()
        let input = try directory.write("metrics.txt", text)
        let process = try TestProcess("/bin/sh", [
            "-c", "exec \"$0\" \"$1\" < \"$2\"", OTLPReceiver.python, try OTLPReceiver.script("parse-prometheus.py"), input,
        ])
        guard process.wait() == 0 else { throw TestFailure("prometheus_client could not parse:\n\(process.log)\n\(text)") }
        guard let array = try JSONSerialization.jsonObject(with: Data(process.log.utf8)) as? [[String: Any]] else {
            throw TestFailure("unexpected parser output: \(process.log)")
        }
        return array.map {
            PrometheusSample(
                family: $0["family"] as? String ?? "", name: $0["name"] as? String ?? "",
                labels: $0["labels"] as? [String: String] ?? [:], value: ($0["value"] as? NSNumber)?.doubleValue ?? .nan
            )
        }
    }
}

/// GET http://127.0.0.1:`port``path` with curl; the body.
func httpGet(port: UInt16, path: String) throws -> String {
    try run("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)\(path)"])
}

/// Resident set size of `pid` in KiB.
func residentKiB(of pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}
