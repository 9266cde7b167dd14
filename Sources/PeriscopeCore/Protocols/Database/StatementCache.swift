/// Prepared statements of one connection by name or id, with what their text says. Bounded:
/// when full, the statement stored longest ago makes room.
struct StatementCache<Key: Hashable & Sendable>: Sendable {
    let capacity: Int
    private var entries: [Key: (query: DatabaseQuery, age: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    subscript(key: Key) -> DatabaseQuery? {
        entries[key]?.query
    }

    mutating func store(_ query: DatabaseQuery, for key: Key) {
        clock &+= 1
        if entries[key] == nil, entries.count >= capacity,
           let oldest = entries.min(by: { $0.value.age < $1.value.age })?.key {
            entries[oldest] = nil
        }
        entries[key] = (query, clock)
    }

    mutating func remove(_ key: Key) {
        entries[key] = nil
    }

    mutating func removeAll() {
        entries.removeAll()
    }
}
