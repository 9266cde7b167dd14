import CPeriscopeBPF
import PeriscopeBPF
import PeriscopeSystem
import Synchronization

/// Keeps the capture thread under SCHED_IDLE, on CPU time no other thread wants, and raises it
/// to an ordinary thread while it is behind (`CaptureLag`): a thread of its own, ordinary, looks
/// at the ring buffer every `checkNanos` while events flow (every `quietCheckNanos` when none
/// came lately, and at once when the kernel wakes the buffer's readers because
/// `maxBacklogBytes` wait); the capture thread lowers itself again once it has read what waited.
/// On a node whose cores are all busy the capture thread so gets the CPU it needs, in short
/// bursts, late by milliseconds; where cores are idle now and then it runs there and never
/// preempts a traced service.
final class CaptureYield: @unchecked Sendable {
    private let tid: Int32
    private let scheduling: CaptureScheduling
    private let watch: RingBufferWatch
    private let checkNanos: UInt64
    private let quietCheckNanos: UInt64
    /// Whether the capture thread runs as an ordinary thread. No lock: a thread under
    /// SCHED_IDLE preempted while holding one would keep the watching thread waiting for as
    /// long as it is itself kept from running.
    private let raised = Atomic<Bool>(false)
    /// When the capture thread last went round its loop (monotonic).
    private let looped = Atomic<UInt64>(0)
    private let raiseCount = Atomic<UInt64>(0)
    private let refusal = Atomic<Int32>(0)
    private let stopped = Atomic<Bool>(false)
    private let stopSignal = Wakeup()
    private let finished = Wakeup()
    private var lag: CaptureLag

    /// How often the watching thread looks while events flow.
    static let checkNanos: UInt64 = 5_000_000
    /// Events may wait this much longer than the capture thread's sleep while it is busy
    /// (`AgentConfiguration.busyPollInterval`) before it is raised: on a busy node the shorter
    /// the better, raised often and briefly (wrk → nginx on two cores, both ends traced:
    /// 5 ms 69k requests/s, 15 ms 64k, 40 ms 52k, never yielding 57k, in the same minutes).
    static let graceNanos: UInt64 = 3_000_000
    /// The capture thread may take this much longer than its longest sleep
    /// (`AgentConfiguration.pollInterval`) to go round its loop before it is raised.
    static let loopGraceNanos: UInt64 = 5_000_000

    /// The calling thread, the capture thread, made to yield; nil with the errno when this
    /// process could not raise it again (leaving SCHED_IDLE needs CAP_SYS_NICE) or the kernel
    /// refused SCHED_IDLE: then it stays an ordinary thread.
    /// - Parameters:
    ///   - busyPollNanos: how long the capture thread sleeps between two reads while events flow.
    ///   - pollNanos: the longest it sleeps.
    static func start(
        scheduling: CaptureScheduling, watch: RingBufferWatch, busyPollNanos: UInt64, pollNanos: UInt64, maxBacklogBytes: UInt64
    ) -> Result<CaptureYield, CaptureYieldRefused> {
        let lag = CaptureLag(
            maxWaitNanos: busyPollNanos + graceNanos, maxBacklogBytes: maxBacklogBytes, maxLoopNanos: pollNanos + loopGraceNanos
        )
        let yield = CaptureYield(
            tid: CPeriscopeBPF_thread_id(), scheduling: scheduling, watch: watch, lag: lag,
            checkNanos: checkNanos, quietCheckNanos: 100_000_000
        )
        // Whether a thread of this process may leave SCHED_IDLE, tried on the watching thread
        // (an ordinary thread again either way) before the capture thread goes there.
        let probed = Wakeup()
        let refused = Atomic<Int32>(0)
        PosixThread.start(name: "periscope-yield") { [yield] in
            let ordinary = CaptureScheduling()
            let errno = ordinary.apply(idle: true) ?? ordinary.apply(idle: false) ?? 0
            refused.store(errno, ordering: .releasing)
            probed.signal()
            guard errno == 0 else { return }
            yield.run()
            yield.finished.signal()
        }
        while !probed.wait(nanoseconds: 1_000_000_000) {}
        let errno = refused.load(ordering: .acquiring)
        if errno != 0 { return .failure(CaptureYieldRefused(errno: errno, what: "leave SCHED_IDLE")) }
        if let errno = scheduling.apply(idle: true) {
            yield.stop()
            return .failure(CaptureYieldRefused(errno: errno, what: "enter SCHED_IDLE"))
        }
        return .success(yield)
    }

    private init(tid: Int32, scheduling: CaptureScheduling, watch: RingBufferWatch, lag: CaptureLag, checkNanos: UInt64, quietCheckNanos: UInt64) {
        self.tid = tid
        self.scheduling = scheduling
        self.watch = watch
        self.lag = lag
        self.checkNanos = checkNanos
        self.quietCheckNanos = quietCheckNanos
        looped.store(MonotonicClock.now(), ordering: .relaxed)
    }

    /// How often the capture thread was raised.
    var raises: UInt64 { raiseCount.load(ordering: .relaxed) }

    /// The errno of the kernel's last refusal to change the capture thread's scheduling, or 0.
    var lastRefusal: Int32 { refusal.load(ordering: .relaxed) }

    /// Called by the capture thread once it has read what waited, each time round its loop:
    /// it yields again if it was raised.
    func caughtUp(now: UInt64) {
        looped.store(now, ordering: .relaxed)
        guard raised.load(ordering: .relaxed),
              raised.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged
        else { return }
        if let errno = scheduling.apply(idle: true) { refusal.store(errno, ordering: .relaxed) }
        // Raised again meanwhile: the watching thread's change may have come before this one.
        if raised.load(ordering: .acquiring), let errno = scheduling.apply(idle: false) { refusal.store(errno, ordering: .relaxed) }
    }

    /// Stops the watching thread; the capture thread keeps its scheduling (it is about to end).
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopSignal.signal()
        while !finished.wait(nanoseconds: 1_000_000_000) {}
    }

    private func raise() {
        guard raised.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        if let errno = scheduling.apply(toThread: tid, idle: false) {
            refusal.store(errno, ordering: .relaxed)
            raised.store(false, ordering: .releasing)
            return
        }
        raiseCount.add(1, ordering: .relaxed)
    }

    private func run() {
        var lastProduced = watch.produced
        var lastFlow: UInt64 = 0
        var now = MonotonicClock.now()
        while !stopped.load(ordering: .acquiring) {
            let quiet = now &- lastFlow > quietCheckNanos
            if raised.load(ordering: .acquiring) {
                // The kernel's wakeups mean nothing new until the capture thread yields again.
                stopSignal.wait(nanoseconds: checkNanos)
            } else {
                watch.waitForWakeup(timeoutMilliseconds: Int32((quiet ? quietCheckNanos : checkNanos) / 1_000_000))
            }
            now = MonotonicClock.now()
            let consumed = watch.consumed
            let produced = watch.produced
            if produced != lastProduced {
                lastProduced = produced
                lastFlow = now
            }
            if lag.isBehind(now: now, consumed: consumed, produced: produced, looped: looped.load(ordering: .relaxed)) { raise() }
        }
    }
}

/// The capture thread could not be made to yield.
struct CaptureYieldRefused: Error {
    var errno: Int32
    var what: String
}
