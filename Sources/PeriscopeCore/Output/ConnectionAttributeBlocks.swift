/// The encoded connection attributes (`Span.visitConnectionAttributes`: addresses, ports,
/// process and thread) of recent connections, as an output wrote them: every span of a
/// connection carries the same ones, so they are encoded once and copied after.
///
/// Bounded whatever the traffic: a fixed number of slots, in pairs, each pair holding the last
/// two connections seen with its hash, in one buffer allocated at the first block kept; blocks longer than
/// `maximumBlockLength` (a very long executable path) are never kept.
struct ConnectionAttributeBlocks {
    static let slotCount = 128
    static let maximumBlockLength = 512

    /// Each slot's block at `slot * maximumBlockLength`; empty until a block is kept.
    private var blocks: [UInt8] = []
    /// Per slot: the block's length (-1 for an empty slot) and what it was written for, side
    /// by side so that a look-up reads one record per slot.
    private var owners = [Owner](repeating: Owner(), count: slotCount)
    /// Per pair of slots: the one found or kept last.
    private var recent = [Int](repeating: -1, count: slotCount / 2)

    /// What a slot's block was written for: the span fields the connection attributes are
    /// made of.
    private struct Owner {
        var length = -1
        var kind = Span.Kind.internal
        var pid: Int32 = 0
        var tid: Int32 = 0
        var local = SocketAddress.unspecified
        var peer = SocketAddress.unspecified
        var executable: String?

        /// Whether the block at `owner` was written for `span`'s connection attributes: read
        /// field by field where it lies (a method on the record would copy it first). The
        /// executable compared last (spans of a process usually share its string).
        @inline(__always)
        static func matches(_ owner: UnsafePointer<Owner>, _ span: Span) -> Bool {
            guard owner.pointee.length >= 0, owner.pointee.kind == span.kind, owner.pointee.pid == span.pid,
                  owner.pointee.tid == span.tid, owner.pointee.local == span.local, owner.pointee.peer == span.peer
            else { return false }
            return owner.pointee.executable == span.executable
        }
    }

    /// The block kept for `span`'s connection, handed to `body`; false, without calling it,
    /// when none is kept. `set` is `set(of:)`'s: the block is in one of its two slots.
    /// Mutating only so that it is called where the blocks lie.
    mutating func withBlock(for span: Span, set: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        let found = owners.withUnsafeBufferPointer { owners -> Int? in
            let first = owners.baseAddress! + 2 * set
            if Owner.matches(first, span) { return 2 * set }
            if Owner.matches(first + 1, span) { return 2 * set + 1 }
            return nil
        }
        guard let slot = found else { return false }
        let length = owners[slot].length
        blocks.withUnsafeBufferPointer { blocks in
            body(UnsafeBufferPointer(start: blocks.baseAddress! + slot * Self.maximumBlockLength, count: length))
        }
        recent[set] = slot
        return true
    }

    /// Keeps `block` as the encoding of `span`'s connection attributes, in the slot of `set`
    /// used less recently.
    mutating func keep(_ block: UnsafeBufferPointer<UInt8>, for span: Span, set: Int) {
        guard block.count <= Self.maximumBlockLength else { return }
        if blocks.isEmpty { blocks = [UInt8](repeating: 0, count: Self.slotCount * Self.maximumBlockLength) }
        let slot = recent[set] == 2 * set ? 2 * set + 1 : 2 * set
        recent[set] = slot
        blocks.withUnsafeMutableBufferPointer { blocks in
            let start = slot * Self.maximumBlockLength
            _ = UnsafeMutableBufferPointer(rebasing: blocks[start..<(start + block.count)]).initialize(from: block)
        }
        owners[slot] = Owner(
            length: block.count, kind: span.kind, pid: span.pid, tid: span.tid, local: span.local, peer: span.peer, executable: span.executable
        )
    }

    /// The pair of slots `span`'s connection's block is kept in.
    static func set(of span: Span) -> Int {
        func mix(_ value: UInt64) -> UInt64 {
            var value = value
            value ^= value >> 33
            value &*= 0xFF51_AFD7_ED55_8CCD
            value ^= value >> 33
            return value
        }
        var hash = span.local.low ^ (span.local.high &* 0x9E37_79B9_7F4A_7C15)
        hash = mix(hash ^ span.peer.low ^ (span.peer.high &* 0xBF58_476D_1CE4_E5B9))
        hash = mix(hash ^ (UInt64(span.peer.port) << 16 | UInt64(span.local.port)) ^ UInt64(UInt32(bitPattern: span.tid)) << 32)
        hash = mix(hash ^ UInt64(UInt32(bitPattern: span.pid)))
        return Int(truncatingIfNeeded: hash % UInt64(slotCount / 2))
    }
}
