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
    struct Inputs {
        var pid: Int32
        var policy: PolicyID?
        var executable: String?
        var kind: Span.Kind
        /// The method's bytes (at most eight) as `Method.init` reads them, and how many.
        var method: Method
        var statusCode: Int?
        var route: String?
        var protocolVersion: String
        var scheme: String
        /// Server address and port: the peer's, for client spans only (unspecified for others).
        var peer: SocketAddress
        var isError: Bool

        init(of span: Span, _ http: borrowing HTTPDetails, method: Method) {
            pid = span.pid
            policy = span.policy
            executable = span.executable
            kind = span.kind
            self.method = method
            statusCode = http.statusCode
            route = http.route
            protocolVersion = http.protocolVersion
            scheme = http.scheme
            peer = span.kind == .client ? span.peer : .unspecified
            isError = span.status == .error
        }

        /// Whether these are the inputs of `span` (whose method is `method`), read where
        /// they lie: nothing copied.
        @inline(__always)
        static func match(_ inputs: UnsafePointer<Inputs>, _ span: Span, _ http: borrowing HTTPDetails, _ method: Method) -> Bool {
            inputs.pointee.pid == span.pid && inputs.pointee.kind == span.kind && inputs.pointee.method == method
                && inputs.pointee.statusCode == http.statusCode && inputs.pointee.isError == (span.status == .error)
                && inputs.pointee.peer == (span.kind == .client ? span.peer : .unspecified) && inputs.pointee.policy == span.policy
                && inputs.pointee.route == http.route && inputs.pointee.protocolVersion == http.protocolVersion
                && inputs.pointee.scheme == http.scheme && inputs.pointee.executable == span.executable
        }
    }

    /// A method of at most eight bytes, read as two overlapping loads, with its length.
    struct Method: Equatable {
        var word: UInt64
        var count: Int

        /// Nil for a method longer than eight bytes: such spans take the long way.
        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            count = bytes.count
            guard let base = bytes.baseAddress, count > 0 else {
                word = 0
                return
            }
            guard count <= 8 else { return nil }
            let raw = UnsafeRawPointer(base)
            word = if count >= 4 {
                UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) << 32
            } else {
                UInt64(base[0]) | UInt64(base[count >> 1]) << 8 | UInt64(base[count &- 1]) << 16
            }
        }
    }

    /// The slot of the series of `span` (whose method is `method`).
    static func slot(_ span: Span, _ http: borrowing HTTPDetails, _ method: Method) -> Int {
        let peer = span.kind == .client ? span.peer : .unspecified
        var hash = UInt64(UInt32(bitPattern: span.pid)) | UInt64(method.count) << 32
            | UInt64(UInt8(truncatingIfNeeded: http.statusCode ?? -1)) << 40
        hash ^= method.word &* 0x9E37_79B9_7F4A_7C15
        hash ^= peer.low ^ UInt64(peer.port) << 16
        hash ^= hash >> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 32
        return Int(truncatingIfNeeded: hash % UInt64(slotCount))
    }

    private struct Entry {
        var inputs: Inputs
        /// -1 for an empty slot.
        var index: Int
        var overflowed: Bool
    }

    /// Allocated at the first series kept.
    private var entries: [Entry] = []

    /// The series kept for `span` in `slot` (`slot(span, http, method)`): its place in
    /// `SpanMetrics.httpSeries` and whether it is its process's overflow series. Compared where
    /// the entry lies, not copied out. Mutating only so that it is called where the series lie.
    mutating func find(_ span: Span, _ http: borrowing HTTPDetails, method: Method, slot: Int) -> (index: Int, overflowed: Bool)? {
        guard !entries.isEmpty else { return nil }
        return entries.withUnsafeBufferPointer { entries in
            let entry = entries.baseAddress! + slot
            let inputs = (UnsafeRawPointer(entry) + MemoryLayout<Entry>.offset(of: \Entry.inputs)!).assumingMemoryBound(to: Inputs.self)
            guard entry.pointee.index >= 0, Inputs.match(inputs, span, http, method) else { return nil }
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
