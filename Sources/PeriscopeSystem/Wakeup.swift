#if canImport(Glibc)
import Glibc
#endif

/// A thread that sleeps until another one has work for it, or until a timeout: one wakeup
/// when signalled, none while nothing happens (a thread napping in short sleeps to look at a
/// flag wakes hundreds of times a second for nothing, and each wakeup may preempt the
/// services the agent watches).
public final class Wakeup: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Guarded by `mutex`.
    private var signalled = false

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Timeouts on the monotonic clock: a change of the wall clock neither ends nor stretches them.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes the thread in `wait`, or makes its next `wait` return at once.
    public func signal() {
        pthread_mutex_lock(mutex)
        signalled = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until `signal` or until `nanoseconds` passed; returns whether it was signalled,
    /// and takes the signal (the next `wait` sleeps again).
    @discardableResult
    public func wait(nanoseconds: UInt64) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let end = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) + min(nanoseconds, 1 << 50)
        var deadline = timespec(tv_sec: Int(end / 1_000_000_000), tv_nsec: Int(end % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !signalled {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        let was = signalled
        signalled = false
        return was
    }
}
