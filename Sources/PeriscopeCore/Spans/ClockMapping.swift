/// Maps the kernel's monotonic clock to Unix time: `unix = monotonic + offset`.
/// The agent samples both clocks together and refreshes the offset periodically.
public struct ClockMapping: Sendable, Equatable {
    /// Unix nanoseconds minus monotonic nanoseconds at the moment of sampling.
    public var offsetNanos: Int64

    public init(offsetNanos: Int64) {
        self.offsetNanos = offsetNanos
    }

    /// Builds the mapping from one simultaneous reading of both clocks.
    public init(monotonicNanos: UInt64, unixNanos: UInt64) {
        self.offsetNanos = Int64(bitPattern: unixNanos &- monotonicNanos)
    }

    public func unixNanos(fromMonotonic monotonic: UInt64) -> UInt64 {
        UInt64(bitPattern: Int64(bitPattern: monotonic) &+ offsetNanos)
    }
}
