/// Byte classes of eight bytes at once: a word loaded little-endian (its first byte lowest),
/// tested lane by lane with no carry from one byte into the next. Each test returns a mask
/// with 0x80 in the lanes whose byte is in the class, 0 elsewhere; `firstLane` and
/// `lanesBefore` read such masks. Exact: no byte is ever counted in a class it is not in.
extension HTTP1Syntax {
    static let lanes: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The lanes equal to `byte`.
    @inline(__always)
    static func lanes(of word: UInt64, equalTo byte: UInt8) -> UInt64 {
        let difference = word ^ (lanes &* UInt64(byte))
        // The low seven bits of a lane not zero set its high bit; a high bit set stays set.
        return ~(((difference & ~highBits) &+ ~highBits) | difference) & highBits
    }

    /// The lanes whose byte is below 0x20 (control bytes, tab, CR and LF among them).
    @inline(__always)
    static func lanesBelowSpace(_ word: UInt64) -> UInt64 {
        ~(((word & ~highBits) &+ lanes &* 0x60) | word) & highBits
    }

    /// The lanes in `low...high` (both below 0x80) of a word whose high bits are clear.
    @inline(__always)
    static func lanes(of word: UInt64, in range: ClosedRange<UInt8>) -> UInt64 {
        let atLeastLow = word &+ lanes &* UInt64(0x80 - range.lowerBound)
        let aboveHigh = word &+ lanes &* UInt64(0x7f - range.upperBound)
        return atLeastLow & ~aboveHigh & highBits
    }

    /// The lanes holding a letter or `-`: the tokens that make nearly every header name (a
    /// name's digits are read byte by byte).
    @inline(__always)
    static func lanesOfNameBytes(_ word: UInt64) -> UInt64 {
        let letters = lanes(of: word & ~highBits | lanes &* 0x20, in: UInt8(ascii: "a")...UInt8(ascii: "z"))
        return (letters | lanes(of: word, equalTo: UInt8(ascii: "-"))) & ~word
    }

    /// The lanes holding a capital letter: the bytes of the usual methods.
    @inline(__always)
    static func lanesOfCapitals(_ word: UInt64) -> UInt64 {
        lanes(of: word & ~highBits, in: UInt8(ascii: "A")...UInt8(ascii: "Z")) & ~word
    }

    /// The index (0–7) of the first lane set in `mask`; 8 when none is.
    @inline(__always)
    static func firstLane(_ mask: UInt64) -> Int {
        mask.trailingZeroBitCount >> 3
    }

    /// A mask of the lanes before lane `count` (0–8).
    @inline(__always)
    static func lanesBefore(_ count: Int) -> UInt64 {
        count >= 8 ? highBits : highBits & ((1 << UInt64(count * 8)) &- 1)
    }

    /// Whether any byte of the word is not printable ASCII (0x20–0x7e): a control byte
    /// (LF, CR and tab among them), DEL or obs-text. Which one is left to the lane tests: a
    /// borrow or carry only ever leaves a lane whose own byte is outside, so the answer is exact.
    @inline(__always)
    static func hasBytesOutsidePrintable(_ word: UInt64) -> Bool {
        ((word &- lanes &* 0x20) | (word &+ lanes) | word) & highBits != 0
    }

    /// The lanes not printable ASCII, exact up to the first of them: a borrow or carry only
    /// ever leaves a lane outside, for the lanes above it, so lanes after the first may be
    /// set though their byte is printable.
    @inline(__always)
    static func lanesOutsidePrintable(_ word: UInt64) -> UInt64 {
        ((word &- lanes &* 0x20) | (word &+ lanes) | word) & highBits
    }

    /// The same for two words at once.
    @inline(__always)
    static func hasBytesOutsidePrintable(_ first: UInt64, _ second: UInt64) -> Bool {
        let below = lanes &* 0x20
        return ((first &- below) | (first &+ lanes) | first | (second &- below) | (second &+ lanes) | second) & highBits != 0
    }
}
