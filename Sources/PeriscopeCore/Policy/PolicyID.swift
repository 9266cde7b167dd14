/// A policy's identity, stable across changes of its content and of the set it is in: derived
/// from its name alone (`namespace/name` in a cluster, the document's name in a policy file).
/// Spans carry it, so that what happens to a span later (export, resource attributes) follows
/// the policy of its process when it was decided, whatever has changed since. A plain number:
/// copying a span costs no reference counting.
public struct PolicyID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The identity of the policy named `name` (FNV-1a of its UTF-8 bytes).
    public init(name: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        rawValue = hash
    }

    public var description: String { "policy#" + String(rawValue, radix: 16) }
}
