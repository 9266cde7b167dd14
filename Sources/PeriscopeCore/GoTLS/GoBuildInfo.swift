/// The Go toolchain version a binary was built with, from its `.go.buildinfo` section (Go
/// 1.13+) or, failing that, the `runtime.buildVersion` string. Pure: reads through `ELFFile`.
public enum GoBuildInfo {
    static let magic: [UInt8] = [0xff] + Array(" Go buildinf:".utf8)

    /// Whether `file` was built by the Go toolchain.
    public static func isGoBinary(_ file: ELFFile) -> Bool {
        file.section(named: ".go.buildinfo") != nil || file.section(named: ".note.go.buildid") != nil
    }

    /// The version text (`go1.19.8`), or nil when the binary does not say.
    public static func version(of file: ELFFile) -> String? {
        if let section = file.section(named: ".go.buildinfo"),
           let version = version(buildInfo: file.contents(of: section, limit: 1 << 16), file: file) {
            return version
        }
        return runtimeBuildVersion(file)
    }

    /// Reads the header of `.go.buildinfo`: 14 bytes of magic, the pointer size, flags, then
    /// either (flag 2, Go 1.18+) the version as a varint-prefixed string at byte 32, or two
    /// pointers to Go string headers (version, module info) at byte 16.
    static func version(buildInfo bytes: [UInt8], file: ELFFile) -> String? {
        guard bytes.count >= 32, Array(bytes[0..<14]) == magic else { return nil }
        let pointerSize = Int(bytes[14])
        let flags = bytes[15]
        if flags & 2 != 0 {
            var reader = DWARFStructReader.ByteReader(bytes: bytes, offset: 32)
            guard let length = reader.uleb(), length > 0, length <= 256, length <= UInt64(reader.remaining) else { return nil }
            return String(decoding: bytes[reader.offset..<(reader.offset + Int(length))], as: UTF8.self)
        }
        guard pointerSize == 8, flags & 1 == 0 else { return nil }  // 64-bit little-endian only
        let address = ByteView(bytes, base: 16).u64(0)
        return goString(at: address, in: file)
    }

    /// The string `runtime.buildVersion` holds.
    static func runtimeBuildVersion(_ file: ELFFile) -> String? {
        guard let symbol = try? file.objects(named: ["runtime.buildVersion"])["runtime.buildVersion"] else { return nil }
        return goString(at: symbol.address, in: file)
    }

    /// The contents of the Go string header (pointer, length) at `address`.
    static func goString(at address: UInt64, in file: ELFFile) -> String? {
        let header = file.bytes(atAddress: address, count: 16)
        guard header.count == 16 else { return nil }
        let view = ByteView(header)
        let pointer = view.u64(0), length = view.u64(8)
        guard length > 0, length <= 256 else { return nil }
        let text = file.bytes(atAddress: pointer, count: Int(length))
        guard text.count == Int(length) else { return nil }
        return String(decoding: text, as: UTF8.self)
    }
}
