/// Whether the capture thread, which runs on CPU time no other thread wants, has fallen behind:
/// decided from the event ring buffer's write and read positions, sampled over time, and from
/// when the thread last went round its loop. Behind means bytes written `maxWaitNanos` ago or
/// earlier are still unread, or `maxBacklogBytes` wait whatever their age, or the thread has
/// not gone round its loop for `maxLoopNanos` (it sleeps less than that between two reads, so
/// it waits for a CPU: it may hold a lock another thread wants, or have been asked to stop).
/// Pure: the positions and the times are given.
struct CaptureLag {
    /// At a sample's time, everything before `produced` had been written.
    private struct Sample {
        var time: UInt64
        var produced: UInt64
    }

    /// The longest bytes may wait unread.
    let maxWaitNanos: UInt64
    /// The most bytes that may wait unread.
    let maxBacklogBytes: UInt64
    /// The longest the thread may take to go round its loop, sleep included.
    let maxLoopNanos: UInt64
    /// Samples of data still unread at the last look, oldest first; at most `capacity`.
    private var samples: [Sample] = []
    private static let capacity = 64

    init(maxWaitNanos: UInt64, maxBacklogBytes: UInt64, maxLoopNanos: UInt64) {
        self.maxWaitNanos = maxWaitNanos
        self.maxLoopNanos = maxLoopNanos
        self.maxBacklogBytes = max(maxBacklogBytes, 1)
        samples.reserveCapacity(Self.capacity)
    }

    /// Looks at the positions at `now` (monotonic); positions only grow (they are the ring
    /// buffer's 64-bit counters, compared as such). `looped`: when the thread last went round
    /// its loop (monotonic), if known.
    mutating func isBehind(now: UInt64, consumed: UInt64, produced: UInt64, looped: UInt64? = nil) -> Bool {
        let backlog = produced &- consumed
        // What was read is no longer waiting.
        var read = 0
        while read < samples.count, Int64(bitPattern: samples[read].produced &- consumed) <= 0 { read += 1 }
        if read > 0 { samples.removeFirst(read) }
        let stalled = looped.map { Int64(bitPattern: now &- $0) >= Int64(maxLoopNanos) } ?? false
        let behind = stalled || backlog >= maxBacklogBytes || samples.first.map { now &- $0.time >= maxWaitNanos } ?? false
        if backlog > 0, samples.last?.produced != produced {
            // When full, the newest sample stands for the later ones: the oldest decide.
            if samples.count == Self.capacity { samples.removeLast() }
            samples.append(Sample(time: now, produced: produced))
        }
        return behind
    }
}
