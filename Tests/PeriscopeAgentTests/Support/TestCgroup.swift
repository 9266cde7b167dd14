import Foundation
import PeriscopeTestSupport

/// A cgroup v2 group of a test's own processes, for an agent's `--cgroup-path`: the agent's
/// `sock_ops` program then marks only the connections these processes open, not those of other
/// test runs on the machine while the agent lives. Removed, its processes moved back to the
/// root, when the value goes away.
final class TestCgroup {
    static let mount = KubeletCgroup.mount
    let path: String

    init() throws {
        guard FileManager.default.fileExists(atPath: "\(Self.mount)/cgroup.procs") else {
            throw TestFailure("no cgroup v2 hierarchy at \(Self.mount): propagation tests need it")
        }
        path = "\(Self.mount)/periscope-test-\(UUID().uuidString.prefix(8))"
        guard mkdir(path, 0o755) == 0 else { throw TestFailure("mkdir \(path): \(String(cString: strerror(errno)))") }
    }

    /// Moves the process `pid` (all its threads) into the group.
    func add(pid: Int32) throws {
        try "\(pid)\n".write(toFile: "\(path)/cgroup.procs", atomically: false, encoding: .utf8)
    }

    deinit {
        let procs = (try? String(contentsOfFile: "\(path)/cgroup.procs", encoding: .utf8)) ?? ""
        for pid in procs.split(separator: "\n") {
            try? "\(pid)\n".write(toFile: "\(Self.mount)/cgroup.procs", atomically: false, encoding: .utf8)
        }
        rmdir(path)
    }
}
