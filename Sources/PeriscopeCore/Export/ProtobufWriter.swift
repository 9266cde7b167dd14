/// Protocol Buffers wire format, written by hand for the few OTLP messages the agent
/// sends. Fields are appended in order into storage that grows when it must. A nested
/// message gets a slot for its length, as many bytes as its expected size needs; the
/// message is written after it and the length filled in once known, the message moved
/// only when its length turned out to need another number of bytes.
public struct ProtobufWriter: ~Copyable {
    var writer: ByteWriter
    /// The encoded connection attributes of the spans' connections seen lately, for the
    /// next spans of the same connections (`OTLPTraceEncoder.encode(_:into:)`); made at the
    /// first batch of spans. Kept apart, so that the writer holds only what needs no
    /// destroying (see `release()`).
    private(set) var connectionBlocks: UnsafeMutablePointer<ConnectionAttributeBlocks>?

    public init(reservingCapacity capacity: Int = 0) {
        writer = ByteWriter(capacity: capacity)
    }

    /// Writes into `writer`'s storage, which `release()` hands back.
    init(adopting writer: ByteWriter) {
        self.writer = writer
    }

    deinit {
        writer.deallocate()
        if let connectionBlocks {
            connectionBlocks.deinitialize(count: 1)
            connectionBlocks.deallocate()
        }
    }

    /// Makes `connectionBlocks` unless there are some.
    mutating func keepConnectionBlocks() {
        guard connectionBlocks == nil else { return }
        let blocks = UnsafeMutablePointer<ConnectionAttributeBlocks>.allocate(capacity: 1)
        blocks.initialize(to: ConnectionAttributeBlocks())
        connectionBlocks = blocks
    }

    /// The storage, which the caller owns again; only for a writer made with
    /// `init(adopting:)`, which keeps no connection blocks.
    consuming func release() -> ByteWriter {
        let writer = self.writer
        discard self
        return writer
    }

    /// How many bytes have been written.
    public var count: Int { writer.count }

    /// Forgets what was written, keeping the storage.
    public mutating func removeAll() {
        writer.removeAll()
    }

    /// What has been written, valid for the call only.
    public func withUnsafeBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(writer.written)
    }

    /// What has been written, copied.
    public var bytes: [UInt8] {
        let written = writer.written
        return [UInt8](unsafeUninitializedCapacity: written.count) { buffer, count in
            if let target = buffer.baseAddress, let source = written.baseAddress {
                UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: written.count)
            }
            count = written.count
        }
    }

    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    @inline(__always)
    mutating func tag(_ field: Int, _ type: WireType) {
        writer.varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        writer.varint(value)
    }

    /// How many bytes `varint(value)` writes.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        // One byte per started group of seven bits, one for zero.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// Raw bytes, as they are.
    mutating func append(_ raw: UnsafeBufferPointer<UInt8>) {
        writer.bytes(raw)
    }

    mutating func littleEndian64(_ value: UInt64) {
        writer.littleEndian64(value)
    }

    /// `uint32`, `uint64`, `int64` (two's complement) and enum fields; zero is the
    /// default and is not written.
    public mutating func uint64(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, .varint)
        varint(value)
    }

    public mutating func int64(_ field: Int, _ value: Int64) {
        uint64(field, UInt64(bitPattern: value))
    }

    public mutating func bool(_ field: Int, _ value: Bool) {
        uint64(field, value ? 1 : 0)
    }

    /// `fixed64` and `sfixed64`; zero is not written.
    public mutating func fixed64(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, .fixed64)
        littleEndian64(value)
    }

    /// `double`; written even when zero, for fields in a `oneof` or marked optional.
    public mutating func double(_ field: Int, _ value: Double) {
        tag(field, .fixed64)
        littleEndian64(value.bitPattern)
    }

    /// `string`; the empty string is not written.
    public mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        stringAlways(field, value)
    }

    /// A `string` in a `oneof`: written even when empty.
    public mutating func stringAlways(_ field: Int, _ value: String) {
        tag(field, .lengthDelimited)
        // Native and small strings lend their bytes without a copy.
        let lent: Void? = value.utf8.withContiguousStorageIfAvailable { lengthDelimited($0) }
        if lent == nil {
            var value = value
            value.withUTF8 { lengthDelimited($0) }
        }
    }

    /// A length and the bytes.
    @inline(__always)
    mutating func lengthDelimited(_ utf8: UnsafeBufferPointer<UInt8>) {
        varint(UInt64(utf8.count))
        writer.bytes(utf8)
    }

    /// `bytes`; empty is not written.
    public mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        guard !value.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        Array(value).withUnsafeBufferPointer { writer.bytes($0) }
    }

    /// Eight `bytes` holding `value` big-endian, as a span id is.
    public mutating func bigEndianBytes(_ field: Int, _ value: UInt64) {
        tag(field, .lengthDelimited)
        writer.byte(8)
        writer.bigEndian64(value)
    }

    /// Sixteen `bytes`, `high` then `low`, big-endian, as a trace id is.
    public mutating func bigEndianBytes(_ field: Int, _ high: UInt64, _ low: UInt64) {
        tag(field, .lengthDelimited)
        writer.byte(16)
        writer.bigEndian64(high)
        writer.bigEndian64(low)
    }

    /// Packed `repeated fixed64`.
    public mutating func packedFixed64(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.count * 8))
        for value in values { littleEndian64(value) }
    }

    /// Packed `repeated double`.
    public mutating func packedDouble(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.count * 8))
        for value in values { littleEndian64(value.bitPattern) }
    }

    /// A nested message written by `body`, even when it turns out empty.
    public mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        message(field, expectedSize: 0, body)
    }

    /// A nested message written by `body`, its length slot sized for `expectedSize` bytes:
    /// right, and the message stays where it was written.
    mutating func message(_ field: Int, expectedSize: Int, _ body: (inout ProtobufWriter) -> Void) {
        tag(field, .lengthDelimited)
        let slot = Self.varintSize(UInt64(expectedSize))
        writer.reserve(slot)
        let start = writer.count
        writer.cursor += slot
        body(&self)
        let length = writer.count - start - slot
        let needed = Self.varintSize(UInt64(length))
        if needed != slot {
            writer.reserve(needed - slot)
            let body = UnsafeMutableRawPointer(writer.base + start + slot)
            UnsafeMutableRawPointer(writer.base + start + needed).copyMemory(from: body, byteCount: length)
            writer.cursor += needed - slot
        }
        writer.varint(UInt64(length), at: writer.base + start)
    }
}

extension ByteWriter {
    /// A protobuf varint: seven bits a byte, least significant first.
    @inline(__always)
    mutating func varint(_ value: UInt64) {
        reserve(10)
        if value < 0x80 {
            cursor.pointee = UInt8(truncatingIfNeeded: value)
            cursor += 1
            return
        }
        cursor += varint(value, at: cursor)
    }

    /// The unchecked writes below go into room made beforehand with `reserve`.
    @inline(__always)
    mutating func uncheckedByte(_ byte: UInt8) {
        cursor.pointee = byte
        cursor += 1
    }

    @inline(__always)
    mutating func uncheckedVarint(_ value: UInt64) {
        if value < 0x80 {
            cursor.pointee = UInt8(truncatingIfNeeded: value)
            cursor += 1
        } else if value < 0x4000 {
            cursor[0] = UInt8(truncatingIfNeeded: value) | 0x80
            cursor[1] = UInt8(truncatingIfNeeded: value >> 7)
            cursor += 2
        } else {
            cursor += varint(value, at: cursor)
        }
    }

    /// `value` most significant byte first.
    @inline(__always)
    mutating func uncheckedBigEndian64(_ value: UInt64) {
        UnsafeMutableRawPointer(cursor).storeBytes(of: value.bigEndian, as: UInt64.self)
        cursor += 8
    }

    @inline(__always)
    mutating func uncheckedLittleEndian64(_ value: UInt64) {
        UnsafeMutableRawPointer(cursor).storeBytes(of: value.littleEndian, as: UInt64.self)
        cursor += 8
    }

    @inline(__always)
    mutating func uncheckedBytes(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress else { return }
        UnsafeMutableRawPointer(cursor).copyMemory(from: source, byteCount: buffer.count)
        cursor += buffer.count
    }

    /// Writes `value` as a varint at `position`, which has room; returns how many bytes.
    @discardableResult
    func varint(_ value: UInt64, at position: UnsafeMutablePointer<UInt8>) -> Int {
        var value = value
        var count = 0
        while value >= 0x80 {
            position[count] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            count += 1
        }
        position[count] = UInt8(truncatingIfNeeded: value)
        return count + 1
    }
}
