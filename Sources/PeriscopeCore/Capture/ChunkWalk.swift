/// The chunk headers of a chunked HTTP/1 body that the kernel walked in one read or write
/// longer than the capture, so that the body's size is exact without the bytes: the chunk
/// data past the captured prefix, and where the walk ended. Offsets count from the
/// syscall's first byte. The decoder takes it only when `anchor` is where its own decoding
/// puts the next chunk header; a walk that started elsewhere is ignored.
public struct ChunkWalk: Sendable, Equatable {
    /// Where the first chunk header starts whose line ends past the captured prefix.
    public var anchor: Int
    /// Chunk-data bytes from `anchor` to the end of the syscall (framing not counted).
    public var dataBytes: Int
    /// `endsAtHeader`: where a chunk header starts that the walk did not pass (the last
    /// chunk, or one cut by the end of the syscall). Otherwise where the data of the chunk
    /// the walk ended in stops: its CRLF follows, here or in a later syscall.
    public var end: Int
    public var endsAtHeader: Bool

    public init(anchor: Int, dataBytes: Int, end: Int, endsAtHeader: Bool) {
        self.anchor = anchor
        self.dataBytes = dataBytes
        self.end = end
        self.endsAtHeader = endsAtHeader
    }
}
