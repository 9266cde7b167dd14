/// What the pipeline decided for the method and path of recent requests: whether the path is
/// an excluded route, its route and the span name. A service answers a few routes over and
/// over, so most spans find theirs here and skip the matching, the templating and the
/// strings they make.
///
/// Bounded whatever the traffic: a fixed number of slots, each holding the last method and
/// path seen with its hash, in one buffer allocated once; longer keys are never kept.
struct RouteNameCache: Sendable {
    typealias Named = (route: String, name: String)

    static let slotCount = 64
    /// Method and path bytes together, at most.
    static let maximumKeyLength = 192
    /// Each slot's method bytes, then its path bytes, at `slot * maximumKeyLength`.
    private var keys = [UInt8](repeating: 0, count: slotCount * maximumKeyLength)
    /// Per slot, side by side so that a look-up reads one record.
    private var slots = [Slot](repeating: Slot(), count: slotCount)

    private struct Slot {
        /// The key's length (-1 for an empty slot), the method's, and whether the path needs
        /// its `/` (see `HTTPDetails.withPathBytes`).
        var keyCount = -1
        var methodCount = 0
        var pathNeedsSlash = false
        /// The route and name, nil for an excluded route.
        var named: Named?
    }

    /// What was decided for `method` and `path`: nil when it is not kept, `.some(nil)` for an
    /// excluded route. Mutating only so that it is called where the cache lies, not on a
    /// copy (which would retain each of its lists); the slot is read where it lies.
    mutating func named(method: UnsafeBufferPointer<UInt8>, pathNeedsSlash: Bool, path: UnsafeBufferPointer<UInt8>) -> Named?? {
        let count = method.count + path.count
        guard count <= Self.maximumKeyLength else { return nil }
        let slot = Self.slot(method: method, pathNeedsSlash: pathNeedsSlash, path: path)
        return slots.withUnsafeBufferPointer { slots -> Named?? in
            let record = slots.baseAddress! + slot
            guard record.pointee.keyCount == count, record.pointee.methodCount == method.count,
                  record.pointee.pathNeedsSlash == pathNeedsSlash
            else { return nil }
            let equal = keys.withUnsafeBufferPointer { keys in
                let start = keys.baseAddress! + slot * Self.maximumKeyLength
                return Self.equal(method, start) && Self.equal(path, start + method.count)
            }
            return equal ? .some(record.pointee.named) : nil
        }
    }

    /// Keeps what was decided for `method` and `path`, in place of what their slot held.
    mutating func keep(_ decided: Named?, method: UnsafeBufferPointer<UInt8>, pathNeedsSlash: Bool, path: UnsafeBufferPointer<UInt8>) {
        let count = method.count + path.count
        guard count <= Self.maximumKeyLength else { return }
        let slot = Self.slot(method: method, pathNeedsSlash: pathNeedsSlash, path: path)
        keys.withUnsafeMutableBufferPointer { keys in
            let start = slot * Self.maximumKeyLength
            for (offset, byte) in method.enumerated() { keys[start + offset] = byte }
            for (offset, byte) in path.enumerated() { keys[start + method.count + offset] = byte }
        }
        slots[slot] = Slot(keyCount: count, methodCount: method.count, pathNeedsSlash: pathNeedsSlash, named: decided)
    }

    static func slot(method: UnsafeBufferPointer<UInt8>, pathNeedsSlash: Bool, path: UnsafeBufferPointer<UInt8>) -> Int {
        var hash = fold(method, into: pathNeedsSlash ? 0x9E37_79B9_7F4A_7C15 : 0xC2B2_AE3D_27D4_EB4F)
        hash = fold(path, into: hash)
        hash ^= hash >> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 32
        return Int(truncatingIfNeeded: hash % UInt64(slotCount))
    }

    /// `bytes` and their count folded into `hash` a word at a time: the last word (or, below
    /// eight bytes, the first and last four, or the first, middle and last byte) loaded
    /// overlapping the one before, so nothing is read outside `bytes`.
    @inline(__always)
    static func fold(_ bytes: UnsafeBufferPointer<UInt8>, into hash: UInt64) -> UInt64 {
        let multiplier: UInt64 = 0x9FB2_1C65_1E98_DF25
        var hash = (hash ^ UInt64(bytes.count)) &* multiplier
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return hash }
        func add(_ word: UInt64) {
            hash = (hash ^ word) &* multiplier
            hash ^= hash >> 28
        }
        forEachWord(base, bytes.count, add)
        return hash
    }

    /// Whether the `bytes.count` bytes at `stored` are `bytes`, compared as `fold` reads them.
    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ stored: UnsafePointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return true }
        let count = bytes.count
        let raw = UnsafeRawPointer(base)
        let other = UnsafeRawPointer(stored)
        func same<Word: FixedWidthInteger>(_ offset: Int, _: Word.Type) -> Bool {
            raw.loadUnaligned(fromByteOffset: offset, as: Word.self) == other.loadUnaligned(fromByteOffset: offset, as: Word.self)
        }
        if count >= 8 {
            var offset = 0
            while offset &+ 8 < count {
                guard same(offset, UInt64.self) else { return false }
                offset &+= 8
            }
            return same(count &- 8, UInt64.self)
        }
        if count >= 4 { return same(0, UInt32.self) && same(count &- 4, UInt32.self) }
        return base[0] == stored[0] && base[count >> 1] == stored[count >> 1] && base[count &- 1] == stored[count &- 1]
    }

    /// The words of the `count` (above zero) bytes at `base`, as `fold` reads them.
    @inline(__always)
    private static func forEachWord(_ base: UnsafePointer<UInt8>, _ count: Int, _ body: (UInt64) -> Void) {
        let raw = UnsafeRawPointer(base)
        if count >= 8 {
            var offset = 0
            while offset &+ 8 < count {
                body(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset &+= 8
            }
            body(raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
        } else if count >= 4 {
            body(UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) << 32)
        } else {
            body(UInt64(base[0]) | UInt64(base[count >> 1]) << 8 | UInt64(base[count &- 1]) << 16)
        }
    }
}
