/// The `resource` objects a JSON output wrote lately, by process: in a cluster every span of a
/// pod carries the same resource attributes, so they are sorted and encoded once and copied
/// after.
///
/// Bounded whatever the traffic: one entry per slot, a process's slot chosen by its pid, a
/// newer process's object replacing an older one's. An entry is used only for the attributes
/// it was written for (compared whole; the dictionary a process's pod decoration holds is
/// the same storage span after span, so the comparison is usually one of identity), so a
/// pod whose attributes changed is encoded again.
struct ResourceObjectCache {
    static let slotCount = 32

    private struct Entry {
        var attributes: [String: String]
        var bytes: [UInt8]
    }

    private var entries = [Entry?](repeating: nil, count: slotCount)

    /// Writes `,"resource":{…}` for `resource` (not empty), the keys sorted: copied when it
    /// was written for `pid` with the same attributes lately, else written and kept.
    mutating func write(_ resource: [String: String], pid: Int32, to writer: inout ByteWriter) {
        let slot = Int(UInt32(bitPattern: pid) % UInt32(Self.slotCount))
        let copied = entries.withUnsafeMutableBufferPointer { entries -> Bool in
            guard let entry = entries[slot], entry.attributes == resource else { return false }
            entry.bytes.withUnsafeBufferPointer { writer.bytes($0) }
            return true
        }
        if copied { return }
        let start = writer.count
        SpanJSONFormatter.writeResource(resource, to: &writer)
        entries[slot] = Entry(attributes: resource, bytes: Array(writer.written[start...]))
    }
}
