import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The `periscope-controller` executable under test, in a process of its own: its CPU time (all
/// threads, nanoseconds), its RSS and the writes its `/metrics` counts.
final class BenchController {
    let process = Process()
    let healthPort: Int

    init(executable: String, kubeconfig: String) throws {
        healthPort = Self.freePort()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--kubeconfig", kubeconfig, "--identity", "bench", "--health-address", "127.0.0.1", "--health-port", "\(healthPort)",
            "--log-level", ProcessInfo.processInfo.environment["BENCH_CONTROLLER_LOG_LEVEL"] ?? "warning",
        ]
        process.standardError = FileHandle.standardError
    }

    func start() throws { try process.run() }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    var pid: Int32 { process.processIdentifier }

    /// CPU time of every thread so far (schedstat: nanoseconds on a CPU).
    var cpuNanoseconds: UInt64 {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var total: UInt64 = 0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8) else { continue }
            total += UInt64(text.split(separator: " ").first ?? "") ?? 0
        }
        return total
    }

    /// VmRSS and VmHWM in KiB.
    var rss: (current: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int {
            let line = text.split(separator: "\n").first { $0.hasPrefix(key) } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return (value("VmRSS:"), value("VmHWM:"))
    }

    /// `periscope_controller_writes_total`, all kinds, from `/metrics`.
    func writes() async throws -> Int {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(healthPort)/metrics")!)
        var total = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("periscope_controller_writes_total{") {
            total += Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return total
    }

    /// A port nothing listens on now.
    static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
