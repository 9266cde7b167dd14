/// Processes that exited lately, with the executable each ran: spans finish after their
/// process is gone (a span held for a late caller's context, a connection ended by the
/// exit), and `/proc` no longer names it — or names another process that reused the pid.
/// Bounded in time and in count.
public struct ExitedProcesses: Sendable {
    /// How long an exited process is remembered (monotonic nanoseconds): far longer than
    /// any span is held, so that an agent running behind still names it.
    public static let keptNanos: UInt64 = 10_000_000_000
    /// At most this many are remembered; past it the earliest exits go first.
    public let capacity: Int
    private var entries: [Int32: (executable: String?, exitedAt: UInt64)] = [:]

    public init(capacity: Int = 16384) {
        self.capacity = max(capacity, 1)
    }

    public var count: Int { entries.count }

    /// Notes that `entry`'s process exited at `timestamp` (monotonic nanoseconds).
    public mutating func add(_ entry: ProcessEntry, at timestamp: UInt64) {
        if entries.count >= capacity, entries[entry.pid] == nil {
            // Half at once, so a full table costs one sort per many exits.
            let earliest = entries.sorted { $0.value.exitedAt < $1.value.exitedAt }.prefix(max(capacity / 2, 1))
            for (pid, _) in earliest { entries[pid] = nil }
        }
        entries[entry.pid] = (entry.executable, timestamp)
    }

    /// The executable of `pid` when it exited; nil when it is not remembered or was unknown.
    public func executable(of pid: Int32) -> String? {
        entries[pid]?.executable
    }

    /// Forgets the processes that exited before `timestamp`.
    public mutating func forget(before timestamp: UInt64) {
        guard !entries.isEmpty else { return }
        entries = entries.filter { $0.value.exitedAt >= timestamp }
    }
}
