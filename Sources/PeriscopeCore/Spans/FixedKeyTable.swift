/// A key of a `FixedKeyTable`: a few machine words, folded into one.
protocol FixedKey: Equatable, Sendable {
    /// The key's words folded into 64 bits; equal keys fold equally.
    var folded: UInt64 { get }
}

/// The hash table of the capture thread's hot path (connections by descriptor and socket,
/// requests in flight by thread, hop and digest): open addressing with linear probing over
/// one contiguous array, keys of a few words mixed with two multiplies instead of SipHash,
/// removal by backward shift (no tombstones), storage kept when emptied. Entries are
/// reached by slot index as well as by key, so that a value is changed where it is stored.
///
/// The mix is seeded per table from the system's random source, so that keys an outside
/// peer chooses (its address and port) cannot be picked to fall on one run of slots.
/// A slot index stays valid until the next insertion or removal.
struct FixedKeyTable<Key: FixedKey, Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        var key: Key
        var value: Value
    }

    private var entries: [Entry?]
    private var shift: UInt64
    private let seed: UInt64
    private(set) var count = 0

    init() {
        entries = Array(repeating: nil, count: 16)
        shift = 64 - 4
        seed = UInt64.random(in: .min ... .max)
    }

    var isEmpty: Bool { count == 0 }

    private var mask: Int { entries.count - 1 }

    @inline(__always)
    private func home(_ key: Key) -> Int {
        var x = key.folded ^ seed
        x = (x ^ (x >> 32)) &* 0xd6e8_feb8_6659_fd93
        x = (x ^ (x >> 32)) &* 0xd6e8_feb8_6659_fd93
        return Int(truncatingIfNeeded: x >> shift)
    }

    /// The slot of `key`, if present.
    func index(forKey key: Key) -> Int? {
        var slot = home(key)
        while let entry = entries[slot] {
            if entry.key == key { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The value in a slot `index(forKey:)` or `insert` gave, read or changed in place.
    subscript(slot slot: Int) -> Value {
        _read { yield entries[slot]!.value }
        _modify { yield &entries[slot]!.value }
    }

    subscript(key: Key) -> Value? {
        get { index(forKey: key).map { entries[$0]!.value } }
        set {
            if let newValue {
                if let slot = index(forKey: key) {
                    entries[slot]!.value = newValue
                } else {
                    insertNew(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// The slot of `key`, holding `value()` when it was not present.
    mutating func slot(forKey key: Key, default value: @autoclosure () -> Value) -> Int {
        if let slot = index(forKey: key) { return slot }
        return insertNew(key, value())
    }

    @discardableResult
    private mutating func insertNew(_ key: Key, _ value: Value) -> Int {
        if (count + 1) * 2 > entries.count { grow() }
        var slot = home(key)
        while entries[slot] != nil { slot = (slot + 1) & mask }
        entries[slot] = Entry(key: key, value: value)
        count += 1
        return slot
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let slot = index(forKey: key) else { return nil }
        return removeValue(at: slot)
    }

    /// Removes the entry in `slot`; the entries after it in its run move back.
    @discardableResult
    mutating func removeValue(at slot: Int) -> Value {
        let removed = entries[slot]!.value
        entries[slot] = nil
        count -= 1
        var hole = slot
        var next = (slot + 1) & mask
        while let entry = entries[next] {
            let ideal = home(entry.key)
            // The entry stays when its home lies cyclically in (hole, next].
            let stays = hole <= next ? (hole < ideal && ideal <= next) : (hole < ideal || ideal <= next)
            if !stays {
                entries[hole] = entry
                entries[next] = nil
                hole = next
            }
            next = (next + 1) & mask
        }
        return removed
    }

    mutating func removeAll() {
        guard count > 0 else { return }
        for slot in entries.indices { entries[slot] = nil }
        count = 0
    }

    /// Every value, in no particular order.
    var values: [Value] { entries.compactMap { $0?.value } }

    /// Every key, in no particular order.
    var keys: [Key] { entries.compactMap { $0?.key } }

    private mutating func grow() {
        let old = entries
        entries = Array(repeating: nil, count: old.count * 2)
        shift -= 1
        for case let entry? in old {
            var slot = home(entry.key)
            while entries[slot] != nil { slot = (slot + 1) & mask }
            entries[slot] = entry
        }
    }
}

extension UInt64: FixedKey {
    var folded: UInt64 { self }
}

extension SpanID: FixedKey {
    var folded: UInt64 { value }
}

extension SocketAddress {
    /// The address and port folded into 64 bits, for `FixedKey`s made of addresses.
    var folded: UInt64 {
        var x = high &* 0x9e37_79b9_7f4a_7c15
        x = (x ^ low) &* 0x9e37_79b9_7f4a_7c15
        return x ^ UInt64(port)
    }
}
