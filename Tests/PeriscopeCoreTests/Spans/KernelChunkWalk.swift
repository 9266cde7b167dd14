@testable import PeriscopeCore

/// What the kernel's walk of chunk headers reports for one syscall (bpf/tracer.bpf.c,
/// `chunk_walk`), computed from a whole stream whose chunked body starts at `bodyStart`:
/// the syscall moved `stream[start..<start + moved]` and captured its first `prefix` bytes.
/// Nil where the kernel reports nothing.
func kernelChunkWalk(stream: [UInt8], bodyStart: Int, start: Int, moved: Int, prefix: Int) -> ChunkWalk? {
    let end = start + moved
    let prefixEnd = start + prefix
    guard moved > prefix else { return nil }
    var anchor: Int?
    var data = 0
    var header = bodyStart
    while header < end {
        // A chunk-size line: hex digits, optional extensions, CRLF.
        guard let newline = stream[header...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let lineEnd = newline + 1
        if lineEnd > end {
            // Cut by the end of the syscall.
            guard let anchor else { return nil }
            return ChunkWalk(anchor: anchor - start, dataBytes: data, end: header - start, endsAtHeader: true)
        }
        let digits = stream[header..<newline].prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "\r") }
        let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) ?? 0
        if anchor == nil, lineEnd > prefixEnd { anchor = header }
        if size == 0 {
            guard let anchor, header >= start else { return nil }
            return ChunkWalk(anchor: anchor - start, dataBytes: data, end: header - start, endsAtHeader: true)
        }
        let dataEnd = lineEnd + size
        if anchor != nil, header >= start || lineEnd > start { data += min(dataEnd, end) - max(lineEnd, start) }
        if dataEnd + 2 > end {
            guard let anchor else { return nil }
            return ChunkWalk(anchor: anchor - start, dataBytes: data, end: dataEnd - start, endsAtHeader: false)
        }
        header = dataEnd + 2
    }
    guard let anchor else { return nil }
    return ChunkWalk(anchor: anchor - start, dataBytes: data, end: header - start, endsAtHeader: true)
}
