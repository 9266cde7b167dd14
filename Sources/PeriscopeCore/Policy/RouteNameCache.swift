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
    /// Per slot: the key's length (-1 for an empty slot), the method's and whether the path
    /// needs its `/` (see `HTTPDetails.withPathBytes`).
    private var keyCounts = [Int](repeating: -1, count: slotCount)
    private var methodCounts = [Int](repeating: 0, count: slotCount)
    private var pathsNeedSlash = [Bool](repeating: false, count: slotCount)
    /// Per slot: the route and name, nil for an excluded route.
    private var named = [Named?](repeating: nil, count: slotCount)

    /// What was decided for `method` and `path`: nil when it is not kept, `.some(nil)` for an
    /// excluded route.
    func named(method: UnsafeBufferPointer<UInt8>, pathNeedsSlash: Bool, path: UnsafeBufferPointer<UInt8>) -> Named?? {
        let count = method.count + path.count
        guard count <= Self.maximumKeyLength else { return nil }
        let slot = Self.slot(method: method, pathNeedsSlash: pathNeedsSlash, path: path)
        guard keyCounts[slot] == count, methodCounts[slot] == method.count, pathsNeedSlash[slot] == pathNeedsSlash else { return nil }
        let equal = keys.withUnsafeBufferPointer { keys in
            let start = slot * Self.maximumKeyLength
            return keys[start..<(start + method.count)].elementsEqual(method)
                && keys[(start + method.count)..<(start + count)].elementsEqual(path)
        }
        return equal ? .some(named[slot]) : nil
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
        keyCounts[slot] = count
        methodCounts[slot] = method.count
        pathsNeedSlash[slot] = pathNeedsSlash
        named[slot] = decided
    }

    private static func slot(method: UnsafeBufferPointer<UInt8>, pathNeedsSlash: Bool, path: UnsafeBufferPointer<UInt8>) -> Int {
        var hash = FNV1a()
        hash.add(method)
        hash.add(CollectionOfOne(pathNeedsSlash ? UInt8(1) : 0))
        hash.add(path)
        return Int(truncatingIfNeeded: hash.value % UInt64(slotCount))
    }
}
