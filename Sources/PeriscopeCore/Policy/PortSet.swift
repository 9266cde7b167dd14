/// A set of TCP ports kept as sorted, non-overlapping, non-adjacent ranges.
///
/// In a policy an empty set means "no port filter": every port is traced
/// (see `Policy.tracesPort(_:)`). `contains(_:)` itself is plain set membership.
public struct PortSet: Sendable, Hashable {
    /// Normalised ranges: sorted, merged where they overlap or touch.
    public private(set) var ranges: [ClosedRange<UInt16>]

    /// Words in `bitmap()`: 65,536 ports / 64 bits.
    public static let bitmapWordCount = 1024

    public init(_ ranges: [ClosedRange<UInt16>] = []) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt16>] = []
        for range in sorted {
            if let last = merged.last, Int(range.lowerBound) <= Int(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// How many ports the set holds.
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    public func contains(_ port: UInt16) -> Bool {
        var low = 0, high = ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if port < ranges[mid].lowerBound {
                high = mid - 1
            } else if port > ranges[mid].upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    /// The set as 1,024 64-bit words for the kernel's port filter: port `p` is bit
    /// `p % 64` (least significant first) of word `p / 64`.
    public func bitmap() -> [UInt64] {
        var words = [UInt64](repeating: 0, count: Self.bitmapWordCount)
        for range in ranges {
            var port = Int(range.lowerBound)
            let end = Int(range.upperBound)
            while port <= end {
                if port % 64 == 0, port + 63 <= end {
                    words[port / 64] = .max
                    port += 64
                } else {
                    words[port / 64] |= 1 << UInt64(port % 64)
                    port += 1
                }
            }
        }
        return words
    }
}
