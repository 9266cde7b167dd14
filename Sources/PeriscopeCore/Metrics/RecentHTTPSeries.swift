/// The HTTP series of recent spans, by what decides a span's series key (`SpanMetrics.
/// httpAttributes` and its process): a service's spans fall in a few series over and over,
/// and comparing these few fields costs far less than making the key's attribute list and
/// hashing its strings for every span.
///
/// Bounded whatever the traffic: a fixed number of slots, each holding the last inputs seen
/// with its hash. A series' place never changes (series are never removed), so what a slot
/// holds stays right; an overflowed series stays overflowed (the series count only grows).
struct RecentHTTPSeries {
    static let slotCount = 64

    /// What a span's HTTP series key is made of, as the span holds it. Strings compare
    /// quickly when they share storage (a route from the pipeline's cache, a process's
    /// executable) or are small.
    struct Inputs: Equatable {
        var pid: Int32
        var policy: PolicyID?
        var executable: String?
        var kind: Span.Kind
        /// The method's bytes (at most eight) as overlapping loads read them, and how many.
        var method: UInt64
        var methodCount: Int
        var statusCode: Int?
        var route: String?
        var protocolVersion: String
        var scheme: String
        /// Server address and port: the peer's, for client spans only (unspecified for others).
        var peer: SocketAddress
        var isError: Bool

        /// Nil for a method longer than eight bytes: such spans take the long way.
        init?(of span: Span, _ http: borrowing HTTPDetails) {
            guard let method = http.withMethodBytes({ bytes -> UInt64? in
                guard let base = bytes.baseAddress, bytes.count <= 8 else { return bytes.isEmpty ? 0 : nil }
                // Overlapping loads, as many bytes as there are (their count is compared too).
                let count = bytes.count
                let raw = UnsafeRawPointer(base)
                if count >= 4 {
                    return UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) << 32
                }
                return UInt64(base[0]) | UInt64(base[count >> 1]) << 8 | UInt64(base[count &- 1]) << 16
            }) else { return nil }
            pid = span.pid
            policy = span.policy
            executable = span.executable
            kind = span.kind
            self.method = method
            methodCount = http.withMethodBytes { $0.count }
            statusCode = http.statusCode
            route = http.route
            protocolVersion = http.protocolVersion
            scheme = http.scheme
            peer = span.kind == .client ? span.peer : .unspecified
            isError = span.status == .error
        }

        var slot: Int {
            var hash = UInt64(UInt32(bitPattern: pid)) | UInt64(methodCount) << 32 | UInt64(UInt8(truncatingIfNeeded: (statusCode ?? -1))) << 40
            hash ^= method &* 0x9E37_79B9_7F4A_7C15
            hash ^= UInt64(truncatingIfNeeded: route?.utf8.count ?? -1) << 48 ^ peer.low ^ UInt64(peer.port) << 16
            hash ^= hash >> 29
            hash &*= 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 32
            return Int(truncatingIfNeeded: hash % UInt64(slotCount))
        }
    }

    private struct Entry {
        var inputs: Inputs
        /// -1 for an empty slot.
        var index: Int
        var overflowed: Bool
    }

    /// Allocated at the first series kept.
    private var entries: [Entry] = []

    /// The series kept for `inputs` in `slot` (`inputs.slot`): its place in
    /// `SpanMetrics.httpSeries` and whether it is its process's overflow series. Compared where
    /// the entry lies, not copied out. Mutating only so that it is called where the series lie.
    mutating func find(_ inputs: Inputs, slot: Int) -> (index: Int, overflowed: Bool)? {
        guard !entries.isEmpty else { return nil }
        return entries.withUnsafeBufferPointer { entries in
            let entry = entries.baseAddress! + slot
            guard entry.pointee.index >= 0, entry.pointee.inputs == inputs else { return nil }
            return (entry.pointee.index, entry.pointee.overflowed)
        }
    }

    /// Keeps the series of `inputs`, in place of what their slot held.
    mutating func keep(_ inputs: Inputs, slot: Int, index: Int, overflowed: Bool) {
        if entries.isEmpty {
            entries = [Entry](repeating: Entry(inputs: inputs, index: -1, overflowed: false), count: Self.slotCount)
        }
        entries[slot] = Entry(inputs: inputs, index: index, overflowed: overflowed)
    }
}
