import CPeriscopeZlib

/// Inflation of zlib streams (compressed DWARF sections of Go executables) with zlib.
enum ZlibInflate {
    /// `compressed` inflated into exactly `size` bytes; nil when the stream is broken or
    /// inflates to another size.
    static func inflate(_ compressed: ArraySlice<UInt8>, size: Int) -> [UInt8]? {
        guard size > 0, !compressed.isEmpty else { return nil }
        var output = [UInt8](repeating: 0, count: size)
        var produced = uLongf(size)
        let result = compressed.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                uncompress(target.baseAddress, &produced, source.baseAddress, uLong(source.count))
            }
        }
        guard result == Z_OK, Int(produced) == size else { return nil }
        return output
    }
}
