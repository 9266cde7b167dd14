import PeriscopeCore
#if canImport(Glibc)
import Glibc
#endif

/// The clocks the kernel stamps events with, read from user space.
enum MonotonicClock {
    /// CLOCK_MONOTONIC in nanoseconds, the clock of `bpf_ktime_get_ns`.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Monotonic-to-Unix mapping from two realtime readings around one monotonic reading.
    static func mapping() -> ClockMapping {
        var before = timespec(), after = timespec(), monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &before)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        clock_gettime(CLOCK_REALTIME, &after)
        func nanos(_ t: timespec) -> UInt64 { UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec) }
        let unix = nanos(before) / 2 + nanos(after) / 2
        return ClockMapping(monotonicNanos: nanos(monotonic), unixNanos: unix)
    }
}
