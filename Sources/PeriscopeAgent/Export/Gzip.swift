import CPeriscopeZlib

/// gzip (RFC 1952) compression of request bodies with zlib.
enum Gzip {
    /// `input` as a gzip member; `input` itself if zlib fails, which only happens when
    /// memory runs out. zlib's fastest level: compression is most of an export's CPU time
    /// (a batch of OTLP spans compresses at about twice the speed of the default level,
    /// into a body about a quarter larger).
    static func compress(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        guard deflateInit2_(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return Array(input) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let result = output.withUnsafeMutableBufferPointer { target in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            stream.next_out = target.baseAddress
            stream.avail_out = uInt(target.count)
            return deflate(&stream, Z_FINISH)
        }
        guard result == Z_STREAM_END else { return Array(input) }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
