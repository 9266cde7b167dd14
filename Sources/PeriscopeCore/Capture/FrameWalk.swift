/// Ranges of one read or write past its captured prefix that the kernel copied while it
/// walked the HTTP/2 frames in them (bpf/include/periscope_frame_walk.h): each frame
/// header, the payloads of header blocks and control frames, the first bytes of DATA. The
/// bytes are the syscall's own, at the offsets given; a decoder reads them where they
/// belong and skips what lies between by length.
///
/// Stored as the kernel wrote them, records of an 8-byte header (offset from the syscall's
/// first byte, UInt32; size, UInt16; flags, UInt16; little-endian) followed by `size`
/// bytes, and read in place: a malformed record ends the walk, nothing past it is read.
public struct FrameWalk: Sendable, Equatable, Sequence {
    public struct Range: Sendable, Equatable {
        /// Where the bytes were in the syscall's bytes.
        public var offset: Int
        /// A frame header begins at `offset`.
        public var startsFrame: Bool
        public var bytes: ArraySlice<UInt8>
    }

    /// The records, as the kernel wrote them.
    public var records: ArraySlice<UInt8>

    public init(records: ArraySlice<UInt8> = []) {
        self.records = records
    }

    /// Records for `ranges`, as the kernel writes them (tests, fuzzing).
    public init(_ ranges: [(offset: Int, startsFrame: Bool, bytes: [UInt8])]) {
        var records: [UInt8] = []
        for range in ranges {
            let offset = UInt32(truncatingIfNeeded: range.offset), size = UInt16(truncatingIfNeeded: range.bytes.count)
            records += [UInt8(truncatingIfNeeded: offset), UInt8(truncatingIfNeeded: offset >> 8), UInt8(truncatingIfNeeded: offset >> 16), UInt8(truncatingIfNeeded: offset >> 24)]
            records += [UInt8(truncatingIfNeeded: size), UInt8(truncatingIfNeeded: size >> 8), range.startsFrame ? 1 : 0, 0]
            records += range.bytes
        }
        self.records = records[...]
    }

    public var isEmpty: Bool { records.isEmpty }

    public struct Iterator: IteratorProtocol {
        var rest: ArraySlice<UInt8>

        public mutating func next() -> Range? {
            guard rest.count >= 8 else { return nil }
            let base = rest.startIndex
            let offset = Int(rest[base]) | Int(rest[base + 1]) << 8 | Int(rest[base + 2]) << 16 | Int(rest[base + 3]) << 24
            let size = Int(rest[base + 4]) | Int(rest[base + 5]) << 8
            let flags = rest[base + 6]
            guard rest.count - 8 >= size else {
                rest = rest[rest.endIndex...]
                return nil
            }
            let bytes = rest[(base + 8)..<(base + 8 + size)]
            rest = rest[(base + 8 + size)...]
            return Range(offset: offset, startsFrame: flags & 1 != 0, bytes: bytes)
        }
    }

    public func makeIterator() -> Iterator { Iterator(rest: records) }
}
