import PeriscopeAgent
import PeriscopeCore
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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: CgroupContainer.maximumFileBytes)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return filled > 0 ? String(decoding: bytes[..<filled], as: UTF8.self) : nil
    }
}
