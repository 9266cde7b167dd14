/// One direction's HPACK dynamic table (RFC 7541 §2.3.2, §4): entries newest first,
/// evicted oldest first by the RFC's size accounting (name + value + 32 per entry).
///
/// Bytes live back to back in one array read in place; evicted bytes are dropped in bulk
/// once they are half of it, so memory stays within twice `capacity`.
///
/// When the table's start is unknown (a connection joined midway, bytes lost), the entries
/// held are still the newest ones the encoder has, in the same order: an index within them
/// is right, an index beyond them is an entry never seen (`isComplete` false) rather than
/// an invalid one.
struct HPACKDynamicTable: Sendable {
    struct Entry: Sendable {
        var start: Int
        var nameLength: Int
        var valueLength: Int
        /// False when the entry's name referred to an entry never seen.
        var nameKnown: Bool
    }

    /// The largest table the decoder holds whatever the peers agreed (memory bound).
    let memoryLimit: Int
    /// The size the encoder set with its last size update (initially the SETTINGS default).
    private(set) var maxSize: Int
    /// Sum of the entries' sizes by the RFC's accounting.
    private(set) var size = 0
    /// Whether the entries held are all the encoder's.
    private(set) var isComplete: Bool

    private var bytes: [UInt8] = []
    private var firstByte = 0
    private var entries: [Entry] = []
    private var firstEntry = 0

    init(maxSize: Int, memoryLimit: Int, isComplete: Bool = true) {
        self.memoryLimit = memoryLimit
        self.maxSize = maxSize
        self.isComplete = isComplete
    }

    var count: Int { entries.count - firstEntry }

    /// The entry at dynamic index `index` (1 = newest); nil beyond `count`. A name never
    /// seen is nil.
    func entry(_ index: Int) -> (name: ArraySlice<UInt8>?, value: ArraySlice<UInt8>)? {
        guard index >= 1, index <= count else { return nil }
        let entry = entries[entries.count - index]
        let nameEnd = entry.start + entry.nameLength
        return (entry.nameKnown ? bytes[entry.start..<nameEnd] : nil, bytes[nameEnd..<nameEnd + entry.valueLength])
    }

    /// Adds an entry, evicting older ones; `name` nil when it is not known. An entry larger
    /// than the table empties it (RFC 7541 §4.4).
    mutating func insert(name: ArraySlice<UInt8>?, value: ArraySlice<UInt8>) {
        let nameLength = name?.count ?? 0
        let entrySize = nameLength + value.count + 32
        guard entrySize <= maxSize else {
            evict(downTo: 0)
            return
        }
        evict(downTo: maxSize - entrySize)
        guard entrySize <= memoryLimit else {
            // The encoder keeps it, this table cannot.
            evict(downTo: 0)
            isComplete = false
            return
        }
        evict(downTo: memoryLimit - entrySize, beyondEncoder: true)
        let start = bytes.count
        if let name { bytes.append(contentsOf: name) }
        bytes.append(contentsOf: value)
        entries.append(Entry(start: start, nameLength: nameLength, valueLength: value.count, nameKnown: name != nil))
        size += entrySize
    }

    /// A dynamic table size update (already checked against the receiver's SETTINGS).
    mutating func setMaxSize(_ newSize: Int) {
        maxSize = newSize
        evict(downTo: newSize)
        if newSize == 0 { isComplete = true }
        evict(downTo: memoryLimit, beyondEncoder: true)
    }

    /// Forgets every entry: what follows refers to entries this table never saw.
    mutating func forget() {
        evict(downTo: 0)
        isComplete = false
    }

    /// Evicts oldest entries until `size <= limit`. `beyondEncoder`: the encoder keeps them.
    private mutating func evict(downTo limit: Int, beyondEncoder: Bool = false) {
        while size > limit, firstEntry < entries.count {
            let entry = entries[firstEntry]
            size -= entry.nameLength + entry.valueLength + 32
            firstEntry += 1
            if beyondEncoder { isComplete = false }
        }
        if firstEntry == entries.count {
            entries.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
            firstEntry = 0
            firstByte = 0
            size = 0
            return
        }
        firstByte = entries[firstEntry].start
        if firstByte > 1024 && firstByte * 2 > bytes.count || firstEntry > 64 && firstEntry * 2 > entries.count {
            bytes.removeFirst(firstByte)
            entries.removeFirst(firstEntry)
            for index in entries.indices { entries[index].start -= firstByte }
            firstEntry = 0
            firstByte = 0
        }
    }
}
