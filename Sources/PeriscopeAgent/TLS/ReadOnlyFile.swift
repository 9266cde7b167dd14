import PeriscopeSystem
#if canImport(Glibc)
import Glibc
#endif

/// A file opened for positioned reads, closed when released: what `ELFFile` reads through.
final class ReadOnlyFile {
    private let fd: Int32

    init?(path: String) {
        let fd = System.retryingInterrupted { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Up to `count` bytes at `offset`; fewer where the file ends or a read fails.
    func read(at offset: UInt64, count: Int) -> [UInt8] {
        guard count > 0, offset <= UInt64(Int64.max) else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let moved = bytes.withUnsafeMutableBytes { raw in
                System.retryingInterrupted { pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled)) }
            }
            guard moved > 0 else { break }
            filled += moved
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// The file's size in bytes, or nil.
    var size: UInt64? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        return UInt64(status.st_size)
    }
}
