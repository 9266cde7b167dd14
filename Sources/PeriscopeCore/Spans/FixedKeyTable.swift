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
    /// Keys and values in parallel arrays: a probe reads keys only, and a value is never
    /// copied to be looked at or moved.
    private var keys: [Key?]
    private var values: [Value?]
    private var shift: UInt64
    private let seed: UInt64
    private(set) var count = 0

    init() {
        keys = Array(repeating: nil, count: 16)
        values = Array(repeating: nil, count: 16)
        shift = 64 - 4
        seed = UInt64.random(in: .min ... .max)
    }

    var isEmpty: Bool { count == 0 }

    private var mask: Int { keys.count - 1 }

    @inline(__always)
    private func home(_ key: Key) -> Int {
        // One round: the slot is the product's top bits, which every bit of the folded key
        // (its high half folded onto its low one first) reaches through the multiply.
        var x = key.folded ^ seed
        x = (x ^ (x >> 32)) &* 0xd6e8_feb8_6659_fd93
        return Int(truncatingIfNeeded: x >> shift)
    }

    /// The slot of `key`, if present.
    func index(forKey key: Key) -> Int? {
        let (slot, found) = probe(key)
        return found ? slot : nil
    }

    /// Where `key` is, or else the empty slot that ends its run: where it would be inserted
    /// while the table need not grow. One hash and one walk serve a look-up and an insertion.
    @inline(__always)
    private func probe(_ key: Key) -> (slot: Int, found: Bool) {
        var slot = home(key)
        while let candidate = keys[slot] {
            if candidate == key { return (slot, true) }
            slot = (slot + 1) & mask
        }
        return (slot, false)
    }

    /// The value in a slot `index(forKey:)` or `slot(forKey:default:)` gave, read or changed in place.
    subscript(slot slot: Int) -> Value {
        _read { yield values[slot]! }
        _modify { yield &values[slot]! }
    }

    subscript(key: Key) -> Value? {
        get { index(forKey: key).flatMap { values[$0] } }
        set {
            if let newValue {
                let (slot, found) = probe(key)
                if found {
                    values[slot] = newValue
                } else {
                    insertNew(key, newValue, at: slot)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Where `key` is (`found`), or else where `insert(_:_:at:)` puts it: one hash and one
    /// walk for a look-up followed, when it misses, by an insertion.
    func find(_ key: Key) -> (slot: Int, found: Bool) {
        probe(key)
    }

    /// Inserts `value` for a `key` that `find` did not find, at the slot it gave; nothing may
    /// have been inserted or removed since. Returns the slot it is in.
    @discardableResult
    mutating func insert(_ key: Key, _ value: consuming Value, at free: Int) -> Int {
        insertNew(key, value, at: free)
    }

    /// The slot of `key`, holding `value()` when it was not present.
    mutating func slot(forKey key: Key, default value: @autoclosure () -> Value) -> Int {
        let (slot, found) = probe(key)
        if found { return slot }
        return insertNew(key, value(), at: slot)
    }

    /// Inserts a key not present; `free` is where its probe ended, used unless the table grows.
    @discardableResult
    private mutating func insertNew(_ key: Key, _ value: consuming Value, at free: Int) -> Int {
        var slot = free
        if (count + 1) * 2 > keys.count {
            grow()
            slot = home(key)
            while keys[slot] != nil { slot = (slot + 1) & mask }
        }
        keys[slot] = key
        // Moved in, not copied: the slot was empty.
        values[slot] = consume value
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
        var removed: Value?
        swap(&removed, &values[slot])
        keys[slot] = nil
        count -= 1
        var hole = slot
        var next = (slot + 1) & mask
        while let key = keys[next] {
            let ideal = home(key)
            // The entry stays when its home lies cyclically in (hole, next].
            let stays = hole <= next ? (hole < ideal && ideal <= next) : (hole < ideal || ideal <= next)
            if !stays {
                keys[hole] = key
                keys[next] = nil
                values.swapAt(hole, next)
                hole = next
            }
            next = (next + 1) & mask
        }
        return removed!
    }

    mutating func removeAll() {
        guard count > 0 else { return }
        for slot in keys.indices where keys[slot] != nil {
            keys[slot] = nil
            values[slot] = nil
        }
        count = 0
    }

    /// Every value, in no particular order.
    var allValues: [Value] { values.compactMap { $0 } }

    /// Every key, in no particular order.
    var allKeys: [Key] { keys.compactMap { $0 } }

    private mutating func grow() {
        let oldKeys = keys
        var oldValues = values
        keys = Array(repeating: nil, count: oldKeys.count * 2)
        values = Array(repeating: nil, count: oldKeys.count * 2)
        shift -= 1
        for index in oldKeys.indices {
            guard let key = oldKeys[index] else { continue }
            var slot = home(key)
            while keys[slot] != nil { slot = (slot + 1) & mask }
            keys[slot] = key
            swap(&values[slot], &oldValues[index])
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
