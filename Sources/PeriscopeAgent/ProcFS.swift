import PeriscopeCore
import PeriscopeSystem
#if canImport(Glibc)
import Glibc
#endif

/// Reads processes from a procfs mount. Every file is hostile: unreadable entries,
/// processes that vanish mid-read and odd command names are skipped, never fatal.
public struct ProcFS: Sendable {
    public var root: String

    public init(root: String = "/proc") {
        self.root = root
    }

    /// Every process visible now, with its parent and executable (empty when unreadable,
    /// e.g. kernel threads).
    public func processes() -> [ProcessEntry] {
        guard let directory = opendir(root) else { return [] }
        defer { closedir(directory) }
        var entries: [ProcessEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), pid > 0, let ppid = parentPID(of: pid) else { continue }
            entries.append(ProcessEntry(pid: pid, ppid: ppid, executable: executable(of: pid) ?? ""))
        }
        return entries
    }

    /// The process's parent, from the fourth field of `/proc/<pid>/stat`.
    public func parentPID(of pid: Int32) -> Int32? {
        guard let stat = System.readFile("\(root)/\(pid)/stat", limit: 4096), !stat.isEmpty else { return nil }
        return ProcFS.parentPID(fromStat: stat)
    }

    /// Parses `/proc/<pid>/stat`; the command name may contain spaces and parentheses,
    /// so fields are counted from the last `)`. Read as bytes: a scan of `/proc` parses one
    /// per process, and Character-wise string searching made that most of a scan's cost.
    static func parentPID(fromStat stat: [UInt8]) -> Int32? {
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // ") S 1234 …": the state, then the parent.
        var index = close + 1
        var field = 0
        while index < stat.count, field < 2 {
            while index < stat.count, stat[index] == UInt8(ascii: " ") { index += 1 }
            guard index < stat.count else { return nil }
            field += 1
            if field == 2 { break }
            while index < stat.count, stat[index] != UInt8(ascii: " ") { index += 1 }
        }
        guard field == 2 else { return nil }
        var value: Int64 = 0
        var digits = 0
        while index < stat.count, stat[index] != UInt8(ascii: " "), stat[index] != UInt8(ascii: "\n") {
            let digit = stat[index] &- UInt8(ascii: "0")
            guard digit < 10, digits < 10 else { return nil }
            value = value * 10 + Int64(digit)
            digits += 1
            index += 1
        }
        guard digits > 0, value <= Int64(Int32.max) else { return nil }
        return Int32(value)
    }

    /// The resolved `/proc/<pid>/exe` link, or nil when it cannot be read.
    public func executable(of pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("\(root)/\(pid)/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        var path = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
        return path
    }

    /// Whether descriptor `fd` of `pid` is a socket now.
    public func holdsSocket(pid: Int32, fd: Int32) -> Bool {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("\(root)/\(pid)/fd/\(fd)", &buffer, buffer.count - 1)
        guard count > 0 else { return false }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("socket:")
    }
}
