/// What the capture loop decided about a few processes, each kept in the slot its id's low
/// bits choose (an id replaces the one before it in its slot): looked up per record or span
/// with a mask and a compare instead of hashing a set or dictionary. The loop forgets it all
/// whenever what the decisions came from changes.
struct RecentPIDs<Value> {
    private static var slotCount: Int { 64 }
    /// Widened, so that the mark of an empty slot is no pid at all (a record may say any).
    private var pids = [Int64](repeating: empty, count: slotCount)
    private var values = [Value?](repeating: nil, count: slotCount)
    private var isEmpty = true
    private static var empty: Int64 { .min }

    /// What was decided for `pid`, if it is remembered.
    subscript(pid: Int32) -> Value? {
        let slot = Int(truncatingIfNeeded: pid) & (Self.slotCount - 1)
        return pids[slot] == Int64(pid) ? values[slot] : nil
    }

    /// Whether `pid` is remembered.
    func contains(_ pid: Int32) -> Bool {
        pids[Int(truncatingIfNeeded: pid) & (Self.slotCount - 1)] == Int64(pid)
    }

    mutating func remember(_ pid: Int32, as value: Value) {
        let slot = Int(truncatingIfNeeded: pid) & (Self.slotCount - 1)
        pids[slot] = Int64(pid)
        values[slot] = value
        isEmpty = false
    }

    mutating func forgetAll() {
        guard !isEmpty else { return }
        for slot in pids.indices {
            pids[slot] = Self.empty
            values[slot] = nil
        }
        isEmpty = true
    }
}
