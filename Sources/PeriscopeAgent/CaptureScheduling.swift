import CPeriscopeBPF

/// How the kernel schedules the capture thread against the services it traces
/// (`--capture-batch`, `--capture-slice`). The default leaves it as any other thread.
///
/// The thread wakes every couple of milliseconds while events arrive and then works through
/// what queued, a fraction of a millisecond to a millisecond on a busy node. As an ordinary
/// thread it may preempt a traced service when it wakes, and keeps a core for a whole slice
/// (1.4 ms by default on a 2-core machine) while a service that woke waits for it: that wait
/// is what a traced service's tail latency pays. SCHED_BATCH keeps it from preempting anything
/// when it wakes; a shorter slice lets a service that wakes take the core back sooner. Neither
/// lowers its share of the CPU when cores are contended, so it does not fall behind more
/// under saturation (when it does, the kernel sheds whole new requests, counted).
public struct CaptureScheduling: Sendable, Equatable {
    /// SCHED_BATCH instead of SCHED_OTHER.
    public var batch: Bool
    /// The thread's time slice in nanoseconds (EEVDF's custom slice, Linux 6.12+; the kernel
    /// clamps it to 0.1–100 ms); 0 keeps the kernel's default.
    public var sliceNanoseconds: UInt64

    public init(batch: Bool = false, sliceNanoseconds: UInt64 = 0) {
        self.batch = batch
        self.sliceNanoseconds = sliceNanoseconds
    }

    /// Whether anything differs from an ordinary thread.
    public var isDefault: Bool { !batch && sliceNanoseconds == 0 }

    /// Applies the setting to the calling thread; the errno when the kernel refused it.
    func applyToCallingThread() -> Int32? {
        let result = CPeriscopeBPF_schedule_calling_thread(batch ? 1 : 0, sliceNanoseconds)
        return result < 0 ? -result : nil
    }
}
