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
        /// The method's bytes (at most eight), first in the lowest byte, and how many.
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
            guard let (method, count) = http.withMethodBytes({ bytes -> (UInt64, Int)? in
                guard bytes.count <= 8 else { return nil }
                var word: UInt64 = 0
                for (index, byte) in bytes.enumerated() { word |= UInt64(byte) << (8 * UInt64(index)) }
                return (word, bytes.count)
            }) else { return nil }
            pid = span.pid
            policy = span.policy
            executable = span.executable
            kind = span.kind
            self.method = method
            methodCount = count
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
        var index: Int
        var overflowed: Bool
    }

    private var entries = [Entry?](repeating: nil, count: slotCount)

    /// The series kept for `inputs`: its place in `SpanMetrics.httpSeries` and whether it is
    /// its process's overflow series.
    func find(_ inputs: Inputs) -> (index: Int, overflowed: Bool)? {
        guard let entry = entries[inputs.slot], entry.inputs == inputs else { return nil }
        return (entry.index, entry.overflowed)
    }

    /// Keeps the series of `inputs`, in place of what their slot held.
    mutating func keep(_ inputs: Inputs, index: Int, overflowed: Bool) {
        entries[inputs.slot] = Entry(inputs: inputs, index: index, overflowed: overflowed)
    }
}
