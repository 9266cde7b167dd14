import CPeriscopeBPF
#if canImport(Glibc)
import Glibc
#endif

/// The event ring buffer seen from a thread other than its reader's: how far the kernel has
/// written and the reader has read, and a wait that ends when the kernel wakes the reader
/// (`Tracer.watch()`). Thread-safe; reads nothing out of the buffer.
public final class RingBufferWatch: @unchecked Sendable {
    /// The map's first two pages, read-only: the reader's position, then the kernel's.
    private let pages: UnsafeMutableRawPointer
    private let pageSize: Int
    /// Its own descriptor of the map, so that the watch outlives nothing it needs.
    private let descriptor: Int32
    private let epoll: Int32

    init(mapDescriptor: Int32) throws(BPFError) {
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        descriptor = fcntl(mapDescriptor, F_DUPFD_CLOEXEC, 0)
        guard descriptor >= 0 else {
            throw BPFError(.ringBufferFailed, "cannot watch the event ring buffer", errno: errno)
        }
        guard let mapped = mmap(nil, 2 * pageSize, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            let error = errno
            close(descriptor)
            throw BPFError(.ringBufferFailed, "cannot map the event ring buffer's positions", errno: error)
        }
        pages = mapped
        // Edge-triggered: a wait ends at the kernel's next wakeup, not while data merely waits.
        epoll = CPeriscopeBPF_wakeups_open(descriptor)
        guard epoll >= 0 else {
            munmap(pages, 2 * pageSize)
            close(descriptor)
            throw BPFError(.ringBufferFailed, "cannot wait for the event ring buffer", errno: -epoll)
        }
    }

    deinit {
        close(epoll)
        munmap(pages, 2 * pageSize)
        close(descriptor)
    }

    /// Bytes the reader has consumed since the buffer was made (records and their headers).
    public var consumed: UInt64 {
        CPeriscopeBPF_load_acquire_u64(pages.assumingMemoryBound(to: UInt64.self))
    }

    /// Bytes the kernel has reserved since the buffer was made.
    public var produced: UInt64 {
        CPeriscopeBPF_load_acquire_u64((pages + pageSize).assumingMemoryBound(to: UInt64.self))
    }

    /// Waits up to `timeoutMilliseconds` for the kernel to wake the buffer's readers (it does
    /// once enough waits, `KernelFilter.wakeupBytes`); returns whether it did. The first wait
    /// may end at once if data waited when the watch was made.
    @discardableResult
    public func waitForWakeup(timeoutMilliseconds: Int32) -> Bool {
        CPeriscopeBPF_wakeups_wait(epoll, timeoutMilliseconds) > 0
    }
}
