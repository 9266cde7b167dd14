import PeriscopeAgent
import PeriscopeCore
import PeriscopeSystem
#if canImport(Glibc)
import Glibc
#endif

extension ProcFS {
    /// The pod and container of each process that runs in one, from `/proc/<pid>/cgroup`.
    /// Unreadable files (processes gone mid-scan) are skipped.
    public func containers(of processes: [ProcessEntry]) -> [Int32: CgroupContainer] {
        var found: [Int32: CgroupContainer] = [:]
        for process in processes {
            guard let text = readSmallFile("\(root)/\(process.pid)/cgroup"), let container = CgroupContainer(cgroupFile: text) else { continue }
            found[process.pid] = container
        }
        return found
    }

    /// At most `CgroupContainer.maximumFileBytes` of a file.
    func readSmallFile(_ path: String) -> String? {
        guard let bytes = System.readFile(path, limit: CgroupContainer.maximumFileBytes), !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
