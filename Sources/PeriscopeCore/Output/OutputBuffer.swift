/// Bytes a printer gathers before writing them out: spans are formatted straight into it,
/// and it grows when it must, without zero-filling.
public struct OutputBuffer: ~Copyable {
    var writer: ByteWriter

    public init(capacity: Int = 4096) {
        writer = ByteWriter(capacity: capacity)
    }

    deinit {
        writer.deallocate()
    }

    public var count: Int { writer.count }
    public var isEmpty: Bool { writer.count == 0 }

    public mutating func append(_ byte: UInt8) {
        writer.byte(byte)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { writer.bytes($0) }
    }

    /// Forgets what was written, keeping the storage.
    public mutating func removeAll() {
        writer.removeAll()
    }

    /// Forgets the first `count` bytes written (at most `count`), the rest moved to the front.
    public mutating func removeFirst(_ count: Int) {
        writer.removeFirst(count)
    }

    /// What has been written, valid for the call only.
    public func withUnsafeBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(writer.written)
    }

    /// A copy of what has been written.
    public var bytes: [UInt8] { Array(writer.written) }
}
