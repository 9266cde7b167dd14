#if canImport(Glibc)
import Glibc
#endif

/// The system calls Periscope makes on files and descriptors, each retried when a signal
/// interrupts it (`EINTR`) and nowhere else: callers never write that loop themselves.
/// All of these block; from async code run them through `BlockingPool`.
public enum System {
    /// Runs `call` until it does not fail with `EINTR`; returns its result, with `errno` as the
    /// call left it.
    @inlinable
    public static func retryingInterrupted<Result: BinaryInteger>(_ call: () -> Result) -> Result {
        while true {
            let result = call()
            if result < 0, errno == EINTR { continue }
            return result
        }
    }

    /// At most `limit` bytes from the start of the file at `path`; nil when it cannot be opened
    /// or read. Files of other processes (`/proc/<pid>/…`) may vanish mid-read: what was read
    /// by then is returned.
    public static func readFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = retryingInterrupted { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Grown as the file turns out longer: a large limit costs nothing for a small file.
        var bytes = [UInt8](repeating: 0, count: min(max(limit, 0), 64 << 10))
        var filled = 0
        while filled < limit {
            if filled == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit - bytes.count)))
            }
            let count = bytes.withUnsafeMutableBytes { raw in
                retryingInterrupted { read(fd, raw.baseAddress! + filled, raw.count - filled) }
            }
            if count < 0, filled == 0 { return nil }
            guard count > 0 else { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Like `readFile(_:limit:)`, but nil when the file holds more than `limit` bytes.
    public static func readWholeFile(_ path: String, limit: Int) -> [UInt8]? {
        guard let bytes = readFile(path, limit: limit + 1), bytes.count <= limit else { return nil }
        return bytes
    }

    /// Writes all of `bytes` to `fd`; false when the descriptor refuses (closed pipe, full disk).
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let written = array[offset...].withUnsafeBytes { raw in retryingInterrupted { write(fd, raw.baseAddress, raw.count) } }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Writes `text` to standard error, all of it (a diagnostic that cannot be written is lost).
    public static func writeStandardError(_ text: String) {
        _ = writeAll(2, Array(text.utf8))
    }

    /// Sends all of `bytes` on socket `fd` without raising SIGPIPE; false when the peer is gone.
    @discardableResult
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { raw in
                retryingInterrupted { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Sleeps `nanoseconds`, the whole of it even when signals arrive.
    public static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// Names the calling thread (`/proc/<pid>/task/<tid>/comm`, 15 bytes at most), as `top -H`
    /// and stack dumps show it. Foundation's `Thread.name` does not reach the kernel on Linux.
    public static func nameCurrentThread(_ name: String) {
        let fd = retryingInterrupted { open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC) }
        guard fd >= 0 else { return }
        defer { close(fd) }
        writeAll(fd, Array(name.utf8.prefix(15)))
    }

    /// The text of `errno` value `code`.
    public static func describe(errno code: Int32) -> String {
        String(cString: strerror(code))
    }
}
