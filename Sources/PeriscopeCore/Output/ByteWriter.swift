/// Bytes written through a pointer into storage that grows when it must: what the JSON
/// printer and the OTLP encoder write into. A write checks the room left with one
/// comparison and grows the storage only when it runs out; nothing is zero-filled, no
/// uniqueness is checked, and numbers, ids and addresses are formatted in place.
///
/// A view, not an owner: `OutputBuffer` and `ProtobufWriter` own the storage and free it.
/// Copies share the storage; after a write that may grow it, only the copy written
/// through is valid, so a copy handed to a visitor is taken back before the next write.
struct ByteWriter {
    private(set) var base: UnsafeMutablePointer<UInt8>
    var cursor: UnsafeMutablePointer<UInt8>
    private(set) var end: UnsafeMutablePointer<UInt8>

    init(capacity: Int) {
        let capacity = max(capacity, 256)
        base = .allocate(capacity: capacity)
        cursor = base
        end = base + capacity
    }

    /// Frees the storage; only its owner calls this, once.
    func deallocate() {
        base.deallocate()
    }

    var count: Int { cursor - base }

    /// What has been written.
    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    mutating func removeAll() {
        cursor = base
    }

    /// Forgets the first `count` bytes written, the rest moved to the front.
    mutating func removeFirst(_ count: Int) {
        let removed = min(max(count, 0), self.count)
        let rest = self.count - removed
        if rest > 0 { UnsafeMutableRawPointer(base).copyMemory(from: base + removed, byteCount: rest) }
        cursor = base + rest
    }

    /// Makes room for `count` more bytes.
    @inline(__always)
    mutating func reserve(_ count: Int) {
        if end - cursor < count { grow(count) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        let used = count
        let capacity = max((end - base) * 2, used + needed)
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        UnsafeMutableRawPointer(storage).copyMemory(from: base, byteCount: used)
        base.deallocate()
        base = storage
        cursor = storage + used
        end = storage + capacity
    }

    // MARK: Raw bytes

    @inline(__always)
    mutating func byte(_ byte: UInt8) {
        reserve(1)
        cursor.pointee = byte
        cursor += 1
    }

    /// A constant's bytes: copied as from memory that cannot overlap the storage (no check
    /// for overlap, which a copy of a known size would otherwise pay on every write).
    @inline(__always)
    mutating func bytes(_ text: StaticString) {
        let count = text.utf8CodeUnitCount
        reserve(count)
        cursor.initialize(from: text.utf8Start, count: count)
        cursor += count
    }

    @inline(__always)
    mutating func bytes(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress else { return }
        reserve(buffer.count)
        cursor.update(from: source, count: buffer.count)
        cursor += buffer.count
    }

    /// Eight bytes as they lie in `value`'s memory: for words assembled in registers.
    @inline(__always)
    private mutating func word(_ value: UInt64) {
        UnsafeMutableRawPointer(cursor).storeBytes(of: value, as: UInt64.self)
        cursor += 8
    }

    /// `value` most significant byte first.
    @inline(__always)
    mutating func bigEndian64(_ value: UInt64) {
        reserve(8)
        word(value.bigEndian)
    }

    @inline(__always)
    mutating func littleEndian64(_ value: UInt64) {
        reserve(8)
        word(value.littleEndian)
    }

    // MARK: Text

    /// Whether every byte is ASCII (so the bytes are UTF-8 too).
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var any: UInt8 = 0
        for byte in bytes { any |= byte }
        return any < 0x80
    }

    /// `value` in decimal: eight digits at a time, each eight made in one word without a
    /// table or a loop (`eightDigits`); the first group without its leading zeros.
    @inline(__always)
    mutating func decimal(_ value: UInt64) {
        // Up to three groups of eight bytes stored whole, the cursor moved past the digits.
        reserve(24)
        if value < 100_000_000 {
            leadingDigits(UInt32(truncatingIfNeeded: value))
        } else if value < 10_000_000_000_000_000 {
            leadingDigits(UInt32(truncatingIfNeeded: value / 100_000_000))
            eightDigits(UInt32(truncatingIfNeeded: value % 100_000_000))
        } else {
            let rest = value % 10_000_000_000_000_000
            leadingDigits(UInt32(truncatingIfNeeded: value / 10_000_000_000_000_000))
            eightDigits(UInt32(truncatingIfNeeded: rest / 100_000_000))
            eightDigits(UInt32(truncatingIfNeeded: rest % 100_000_000))
        }
    }

    /// `value` (below 10⁸) as eight digits, leading zeros included, into room made already.
    @inline(__always)
    private mutating func eightDigits(_ value: UInt32) {
        word((Self.eightDigitValues(value) &+ 0x3030_3030_3030_3030).littleEndian)
    }

    /// `value` (below 10⁸) without its leading zeros (`0` for zero), into room made
    /// already: eight bytes stored, the cursor moved past the digits.
    @inline(__always)
    private mutating func leadingDigits(_ value: UInt32) {
        let digits = Self.eightDigitValues(value)
        // Leading zeros are the word's low zero bytes; at least one digit stays.
        let zeros = min(digits.trailingZeroBitCount >> 3, 7)
        UnsafeMutableRawPointer(cursor).storeBytes(of: (digits >> UInt64(zeros &* 8) &+ 0x3030_3030_3030_3030).littleEndian, as: UInt64.self)
        cursor += 8 &- zeros
    }

    /// The eight decimal digits of `value` (below 10⁸) as the values 0–9 in the bytes of a
    /// word, the first digit in its lowest byte: split in halves of four digits, then
    /// pairs, then digits, every lane at once, divisions made multiplications.
    @inline(__always)
    static func eightDigitValues(_ value: UInt32) -> UInt64 {
        // Two 32-bit lanes: the first four digits in the low one.
        let halves = UInt64(value / 10_000) | UInt64(value % 10_000) << 32
        // Each lane (below 10⁴) over 100: ×10486 >> 20 is exact there.
        let hundreds = (halves &* 10_486) >> 20 & 0x0000_007F_0000_007F
        let pairs = (halves &- hundreds &* 100) << 16 | hundreds
        // Four 16-bit lanes (below 100) over 10: ×103 >> 10 is exact there.
        let tens = (pairs &* 103) >> 10 & 0x000F_000F_000F_000F
        return (pairs &- tens &* 10) << 8 | tens
    }

    /// `value` in decimal where an `earlier` value was written `length` bytes at `offset`
    /// (`decimal(earlier)`, still in the storage and followed there by at least 16 more
    /// bytes): when the two differ only in their last eight digits (a span's end and start,
    /// a tenth of a second apart at most), the digits before those are copied from it.
    @inline(__always)
    mutating func decimal(_ value: UInt64, sharingDigitsWith earlier: UInt64, writtenAt offset: Int, length: Int) {
        let high = value / 100_000_000
        guard earlier >= 100_000_000, high == earlier / 100_000_000 else {
            decimal(value)
            return
        }
        // At most 12 leading digits (20 in all); the copy stores 16 bytes, the eight digits 8.
        reserve(24)
        copyEarlier(at: offset, count: length &- 8)
        eightDigits(UInt32(truncatingIfNeeded: value &- high &* 100_000_000))
    }

    /// `value` as a JSON number; below 1000 (status codes, small sizes) without the
    /// eight-digit arithmetic.
    @inline(__always)
    mutating func decimal(_ value: Int) {
        if UInt(bitPattern: value) < 1000 {
            reserve(4)
            let (text, count) = Self.octetText(UInt32(truncatingIfNeeded: value))
            UnsafeMutableRawPointer(cursor).storeBytes(of: text.littleEndian, as: UInt32.self)
            cursor += count
            return
        }
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(UInt64(value.magnitude))
    }

    /// `decimal(value)` with the usual values (status codes, small sizes: below 1000)
    /// written in line and the others by an out-of-line call: where `decimal(_:)` itself is
    /// left out of line (a caller grown large), a call costs as much as the digits.
    @inline(__always)
    mutating func shortDecimal(_ value: Int) {
        guard UInt(bitPattern: value) < 1000 else { return longDecimal(value) }
        reserve(4)
        let (text, count) = Self.octetText(UInt32(truncatingIfNeeded: value))
        UnsafeMutableRawPointer(cursor).storeBytes(of: text.littleEndian, as: UInt32.self)
        cursor += count
    }

    @inline(never)
    private mutating func longDecimal(_ value: Int) {
        decimal(value)
    }

    /// 16 lowercase hex digits, most significant first.
    @inline(__always)
    mutating func hex(_ value: UInt64) {
        reserve(16)
        word(Self.hexDigits(UInt32(truncatingIfNeeded: value >> 32)))
        word(Self.hexDigits(UInt32(truncatingIfNeeded: value)))
    }

    /// The eight hex digits of `value` as the bytes of a word, first digit in its first byte.
    @inline(__always)
    static func hexDigits(_ value: UInt32) -> UInt64 {
        // Each nibble spread into a byte of its own, nibble k into byte k…
        var spread = UInt64(value)
        spread = (spread | spread << 16) & 0x0000_FFFF_0000_FFFF
        spread = (spread | spread << 8) & 0x00FF_00FF_00FF_00FF
        spread = (spread | spread << 4) & 0x0F0F_0F0F_0F0F_0F0F
        // …then the most significant first in memory, and each made a digit: '0' + n, and
        // 39 more for n ≥ 10 ('a' - '0' - 10).
        let inMemoryOrder = spread.bigEndian
        let letters = (inMemoryOrder &+ 0x0606_0606_0606_0606) >> 4 & 0x0101_0101_0101_0101
        return inMemoryOrder &+ 0x3030_3030_3030_3030 &+ letters &* 39
    }

    /// How many bytes an IPv4-mapped address's dotted quad takes.
    @inline(__always)
    static func ipv4Length(_ address: SocketAddress) -> Int {
        let low = UInt32(truncatingIfNeeded: address.low)
        return 3 + octetText(low >> 24).count + octetText(low >> 16 & 0xFF).count
            + octetText(low >> 8 & 0xFF).count + octetText(low & 0xFF).count
    }

    /// An IPv4-mapped address's dotted quad, at most 15 bytes: each octet's digits and a
    /// dot stored as one word, the cursor moved past the digits (and the dot but the last).
    mutating func ipv4(_ address: SocketAddress) {
        reserve(16)
        let low = UInt32(truncatingIfNeeded: address.low)
        octet(low >> 24, dot: true)
        octet(low >> 16 & 0xFF, dot: true)
        octet(low >> 8 & 0xFF, dot: true)
        octet(low & 0xFF, dot: false)
    }

    /// `ipv4(address)`, or a copy of where `recent` says it was written already.
    @inline(__always)
    mutating func ipv4(_ address: SocketAddress, recent: inout RecentIPv4) {
        if let earlier = recent.find(address) {
            copyEarlier(at: earlier.offset, count: earlier.length)
            return
        }
        let start = count
        ipv4(address)
        recent.remember(address, offset: start, length: count - start)
    }

    /// Appends `count` (at most 16) bytes written earlier at `offset`: two words loaded, then
    /// stored, so the two places may overlap.
    @inline(__always)
    private mutating func copyEarlier(at offset: Int, count: Int) {
        reserve(16)
        let source = UnsafeRawPointer(base + offset)
        let first = source.loadUnaligned(as: UInt64.self)
        let second = source.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        UnsafeMutableRawPointer(cursor).storeBytes(of: first, as: UInt64.self)
        UnsafeMutableRawPointer(cursor).storeBytes(of: second, toByteOffset: 8, as: UInt64.self)
        cursor += count
    }

    @inline(__always)
    private mutating func octet(_ value: UInt32, dot: Bool) {
        let (text, count) = Self.octetText(value)
        UnsafeMutableRawPointer(cursor).storeBytes(of: text.littleEndian, as: UInt32.self)
        cursor += dot ? count + 1 : count
    }

    /// The decimal digits of `value` (below 1000; an octet's below 256) followed by a dot,
    /// first digit in the lowest byte, and how many digits: divisions by multiplication
    /// (exact below 1000), no table.
    @inline(__always)
    static func octetText(_ value: UInt32) -> (text: UInt32, count: Int) {
        let hundreds = (value &* 41) >> 12
        let rest = value &- hundreds &* 100
        let tens = (rest &* 103) >> 10
        let ones = rest &- tens &* 10
        let zero = UInt32(UInt8(ascii: "0"))
        let all = (zero &+ hundreds) | (zero &+ tens) << 8 | (zero &+ ones) << 16 | UInt32(UInt8(ascii: ".")) << 24
        let count = 1 + (value >= 10 ? 1 : 0) + (value >= 100 ? 1 : 0)
        // Leading zeros dropped from the low end.
        return (all >> UInt32(8 * (3 - count)), count)
    }
}

/// The last two IPv4 addresses a writer wrote and where: a span names each of its two
/// addresses twice (as server or client, and as peer or local), the second time copied.
/// Offsets from the start of the writer's storage stay right when it grows.
struct RecentIPv4 {
    private var lows: (UInt64, UInt64) = (0, 0)
    private var offsets: (Int, Int) = (-1, -1)
    private var lengths: (Int, Int) = (0, 0)

    @inline(__always)
    func find(_ address: SocketAddress) -> (offset: Int, length: Int)? {
        if offsets.0 >= 0, lows.0 == address.low { return (offsets.0, lengths.0) }
        if offsets.1 >= 0, lows.1 == address.low { return (offsets.1, lengths.1) }
        return nil
    }

    @inline(__always)
    mutating func remember(_ address: SocketAddress, offset: Int, length: Int) {
        lows = (address.low, lows.0)
        offsets = (offset, offsets.0)
        lengths = (length, lengths.0)
    }
}
