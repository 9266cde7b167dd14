import CPeriscopeBPF

/// How the kernel schedules the capture thread against the services it traces
/// (`--capture-yield`, `--capture-batch`, `--capture-slice`).
///
/// With `--capture-yield` the thread yields: it runs under SCHED_IDLE, on CPU time no other
/// thread wants, and is raised to an ordinary thread only while it is behind (`CaptureYield`).
/// By default it is an ordinary thread: on a quiet node that did better paced (a fixed offered
/// rate: throughput and p99) and as well saturating (docs/agent.md). An ordinary
/// thread that runs for a fraction of a millisecond every couple of milliseconds keeps a core
/// busy at the moment a traced service wakes; the kernel then puts the service on its waker's
/// core, and a client and a server that wake each other end up taking turns on one core while
/// the other sits idle once the agent sleeps (wrk and nginx on two cores: half a core idle,
/// throughput a third of what it is alone). A core that runs only a SCHED_IDLE thread counts
/// as idle where the kernel places a task that wakes, and the task preempts the thread at once.
///
/// SCHED_BATCH (it never preempts anything when it wakes) and a custom slice apply while the
/// thread runs as an ordinary thread: raised, or with yielding off.
public struct CaptureScheduling: Sendable, Equatable {
    /// SCHED_IDLE until behind (`--capture-yield`; ordinary by default).
    public var yields: Bool
    /// SCHED_BATCH instead of SCHED_OTHER while ordinary.
    public var batch: Bool
    /// The thread's time slice in nanoseconds while ordinary (EEVDF's custom slice, Linux 6.12+;
    /// the kernel clamps it to 0.1–100 ms); 0 keeps the kernel's default.
    public var sliceNanoseconds: UInt64

    public init(yields: Bool = false, batch: Bool = false, sliceNanoseconds: UInt64 = 0) {
        self.yields = yields
        self.batch = batch
        self.sliceNanoseconds = sliceNanoseconds
    }

    /// Whether the thread runs, while ordinary, as any other thread does.
    public var ordinaryIsDefault: Bool { !batch && sliceNanoseconds == 0 }

    /// Schedules thread `tid` (0: the calling thread) as an ordinary thread, or under SCHED_IDLE;
    /// the errno when the kernel refused it.
    func apply(toThread tid: Int32 = 0, idle: Bool) -> Int32? {
        let kind = idle ? CPERISCOPEBPF_SCHEDULE_IDLE : batch ? CPERISCOPEBPF_SCHEDULE_BATCH : CPERISCOPEBPF_SCHEDULE_ORDINARY
        let result = CPeriscopeBPF_schedule_thread(tid, Int32(kind), sliceNanoseconds)
        return result < 0 ? -result : nil
    }
}
