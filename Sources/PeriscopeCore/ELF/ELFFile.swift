/// The parts of a 64-bit little-endian ELF file the TLS probes need: its segments (to turn
/// addresses into file offsets), its sections, and function symbols from `.dynsym` and
/// `.symtab`. A pure reader: bytes come from `read(offset, count)`, which returns fewer
/// bytes (or none) where the file ends, so a 100 MB executable is never read whole.
public struct ELFFile {
    public enum Machine: Sendable, Equatable {
        case x86_64
        case aarch64
        case other(UInt16)
    }

    public struct Section: Sendable, Equatable {
        public var name: String
        public var type: UInt32
        /// `sh_flags`; `ELFFile.compressedFlag` marks contents behind an `Elf64_Chdr`.
        public var flags: UInt64
        public var address: UInt64
        public var offset: UInt64
        public var size: UInt64
        public var link: UInt32
        public var entrySize: UInt64
    }

    struct Segment: Sendable, Equatable {
        var virtualAddress: UInt64
        var offset: UInt64
        var fileSize: UInt64
        var executable: Bool
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    public typealias Reader = (_ offset: UInt64, _ count: Int) -> [UInt8]

    public let machine: Machine
    public let sections: [Section]
    let segments: [Segment]
    private let read: Reader

    /// Section tables larger than this are refused.
    static let maxSections = 65_536
    static let maxSegments = 4096
    /// A symbol or string table larger than this is not read.
    public static let maxTableBytes: UInt64 = 256 << 20

    static let sectionTypeSymbolTable: UInt32 = 2
    static let sectionTypeDynamicSymbols: UInt32 = 11
    static let sectionTypeNoBits: UInt32 = 8
    /// `SHF_COMPRESSED`.
    public static let compressedFlag: UInt64 = 0x800
    static let symbolTypeObject: UInt8 = 1
    static let symbolTypeFunction: UInt8 = 2

    public init(read: @escaping Reader) throws(ELFError) {
        self.read = read
        let header = read(0, 64)
        guard header.count >= 64, header[0] == 0x7f, header[1] == 0x45, header[2] == 0x4c, header[3] == 0x46 else {
            throw ELFError(.notELF, "no ELF magic")
        }
        guard header[4] == 2 else { throw ELFError(.notELF, "not a 64-bit ELF file") }
        guard header[5] == 1 else { throw ELFError(.notELF, "not a little-endian ELF file") }
        let bytes = ByteView(header)
        machine = switch bytes.u16(18) {
        case 62: .x86_64
        case 183: .aarch64
        case let other: .other(other)
        }
        let programOffset = bytes.u64(32)
        let sectionOffset = bytes.u64(40)
        let programEntrySize = Int(bytes.u16(54))
        let programCount = Int(bytes.u16(56))
        let sectionEntrySize = Int(bytes.u16(58))
        let sectionCount = Int(bytes.u16(60))
        let namesIndex = Int(bytes.u16(62))

        var segments: [Segment] = []
        if programCount > 0 {
            guard programEntrySize >= 56, programCount <= Self.maxSegments else {
                throw ELFError(.malformed, "program header entries of \(programEntrySize) bytes")
            }
            let table = try Self.readTable(read, at: programOffset, count: programCount, entrySize: programEntrySize, what: "program headers")
            for index in 0..<programCount {
                let entry = ByteView(table, base: index * programEntrySize)
                guard entry.u32(0) == 1 else { continue }  // PT_LOAD
                segments.append(Segment(
                    virtualAddress: entry.u64(16), offset: entry.u64(8), fileSize: entry.u64(32),
                    executable: entry.u32(4) & 1 != 0
                ))
            }
        }
        self.segments = segments

        var sections: [Section] = []
        if sectionCount > 0, sectionOffset != 0 {
            guard sectionEntrySize >= 64, sectionCount <= Self.maxSections else {
                throw ELFError(.malformed, "section header entries of \(sectionEntrySize) bytes")
            }
            let table = try Self.readTable(read, at: sectionOffset, count: sectionCount, entrySize: sectionEntrySize, what: "section headers")
            var nameOffsets: [UInt32] = []
            for index in 0..<sectionCount {
                let entry = ByteView(table, base: index * sectionEntrySize)
                nameOffsets.append(entry.u32(0))
                sections.append(Section(
                    name: "", type: entry.u32(4), flags: entry.u64(8), address: entry.u64(16), offset: entry.u64(24),
                    size: entry.u64(32), link: entry.u32(40), entrySize: entry.u64(56)
                ))
            }
            if namesIndex < sections.count, sections[namesIndex].type != Self.sectionTypeNoBits,
               sections[namesIndex].size <= 1 << 20 {
                let names = read(sections[namesIndex].offset, Int(sections[namesIndex].size))
                for index in sections.indices {
                    sections[index].name = Self.string(in: names, at: Int(nameOffsets[index])) ?? ""
                }
            }
        }
        self.sections = sections
    }

    /// The first section called `name`.
    public func section(named name: String) -> Section? {
        sections.first { $0.name == name }
    }

    /// The bytes of `section` (none for a section without file contents), at most `limit`.
    public func contents(of section: Section, limit: UInt64 = ELFFile.maxTableBytes) -> [UInt8] {
        guard section.type != Self.sectionTypeNoBits, section.size <= limit else { return [] }
        return read(section.offset, Int(section.size))
    }

    /// Where the byte at virtual address `address` is in the file; nil outside every loaded segment.
    public func fileOffset(ofAddress address: UInt64) -> UInt64? {
        for segment in segments where address >= segment.virtualAddress {
            let delta = address - segment.virtualAddress
            if delta < segment.fileSize { return segment.offset &+ delta }
        }
        return nil
    }

    /// Function symbols with a name in `names` and a non-zero address in a loaded segment,
    /// from `.dynsym` first, then (unless `exportedOnly`) `.symtab`; the first definition of
    /// a name wins.
    public func functions(named names: Set<String>, exportedOnly: Bool = false) throws(ELFError) -> [String: ELFSymbol] {
        var found: [String: ELFSymbol] = [:]
        let types = exportedOnly ? [Self.sectionTypeDynamicSymbols] : [Self.sectionTypeDynamicSymbols, Self.sectionTypeSymbolTable]
        for type in types {
            for table in sections where table.type == type {
                try collect(from: table, names: names, into: &found)
                if found.count == names.count { return found }
            }
        }
        return found
    }

    /// Every function symbol whose name passes `matches`, from `.symtab` then `.dynsym`.
    public func functions(matching matches: (String) -> Bool) throws(ELFError) -> [String: ELFSymbol] {
        var found: [String: ELFSymbol] = [:]
        for type in [Self.sectionTypeSymbolTable, Self.sectionTypeDynamicSymbols] {
            for table in sections where table.type == type {
                try collect(from: table, matching: matches, into: &found)
            }
        }
        return found
    }

    /// Data symbols (`STT_OBJECT`) with a name in `names` and a non-zero address, from
    /// `.symtab` then `.dynsym`; the first definition of a name wins.
    public func objects(named names: Set<String>) throws(ELFError) -> [String: ELFSymbol] {
        var found: [String: ELFSymbol] = [:]
        for type in [Self.sectionTypeSymbolTable, Self.sectionTypeDynamicSymbols] {
            for table in sections where table.type == type {
                try collect(from: table, names: names, symbolType: Self.symbolTypeObject, into: &found)
                if found.count == names.count { return found }
            }
        }
        return found
    }

    private func collect(
        from table: Section, names: Set<String>, symbolType: UInt8 = ELFFile.symbolTypeFunction,
        into found: inout [String: ELFSymbol]
    ) throws(ELFError) {
        let lengths = Set(names.map(\.utf8.count))
        try collect(from: table, matching: { names.contains($0) }, nameLengths: lengths, symbolType: symbolType, into: &found)
    }

    private func collect(
        from table: Section, matching matches: (String) -> Bool, nameLengths: Set<Int>? = nil,
        symbolType: UInt8 = ELFFile.symbolTypeFunction, into found: inout [String: ELFSymbol]
    ) throws(ELFError) {
        guard table.entrySize == 24 else { throw ELFError(.malformed, "symbol entries of \(table.entrySize) bytes in \(table.name)") }
        guard table.size <= Self.maxTableBytes else { throw ELFError(.truncated, "symbol table \(table.name) of \(table.size) bytes") }
        guard Int(table.link) < sections.count else { throw ELFError(.malformed, "symbol table \(table.name) names no string table") }
        let stringTable = sections[Int(table.link)]
        guard stringTable.size <= Self.maxTableBytes else { throw ELFError(.truncated, "string table of \(stringTable.size) bytes") }
        let symbols = read(table.offset, Int(table.size))
        let strings = read(stringTable.offset, Int(stringTable.size))
        let count = symbols.count / 24
        for index in 0..<count {
            let entry = ByteView(symbols, base: index * 24)
            let info = entry.u8(4)
            guard info & 0xf == symbolType else { continue }  // STT_FUNC or STT_OBJECT
            let address = entry.u64(8)
            guard address != 0, entry.u16(6) != 0 else { continue }  // defined here
            let nameOffset = Int(entry.u32(0))
            if let nameLengths, !Self.hasLength(in: strings, at: nameOffset, oneOf: nameLengths) { continue }
            guard let name = Self.string(in: strings, at: nameOffset), found[name] == nil, matches(name) else { continue }
            guard let offset = fileOffset(ofAddress: address) else { continue }
            found[name] = ELFSymbol(name: name, address: address, size: entry.u64(16), fileOffset: offset)
        }
    }

    /// Reads `count` bytes of the symbol at `address`, e.g. a function's code.
    public func bytes(atAddress address: UInt64, count: Int) -> [UInt8] {
        guard let offset = fileOffset(ofAddress: address), count >= 0 else { return [] }
        return read(offset, count)
    }

    private static func readTable(_ read: Reader, at offset: UInt64, count: Int, entrySize: Int, what: String) throws(ELFError) -> [UInt8] {
        let size = count * entrySize
        let bytes = read(offset, size)
        guard bytes.count == size else { throw ELFError(.truncated, "\(what) end past the file") }
        return bytes
    }

    /// The NUL-terminated string at `offset`, at most 4 KiB; nil outside the table.
    static func string(in table: [UInt8], at offset: Int) -> String? {
        guard offset >= 0, offset < table.count else { return nil }
        var end = offset
        let limit = min(table.count, offset + 4096)
        while end < limit, table[end] != 0 { end += 1 }
        guard end < table.count, table[end] == 0 else { return nil }
        return String(decoding: table[offset..<end], as: UTF8.self)
    }

    /// Whether the string at `offset` is one of `lengths` bytes long, without making it.
    static func hasLength(in table: [UInt8], at offset: Int, oneOf lengths: Set<Int>) -> Bool {
        guard offset >= 0, offset < table.count else { return false }
        let longest = lengths.max() ?? 0
        var end = offset
        while end < table.count, end - offset <= longest, table[end] != 0 { end += 1 }
        return end < table.count && table[end] == 0 && lengths.contains(end - offset)
    }
}

/// Little-endian fields of a byte array at a base offset; reads past the end give 0.
struct ByteView {
    let bytes: [UInt8]
    let base: Int

    init(_ bytes: [UInt8], base: Int = 0) {
        self.bytes = bytes
        self.base = base
    }

    func u8(_ offset: Int) -> UInt8 {
        let index = base + offset
        return index >= 0 && index < bytes.count ? bytes[index] : 0
    }

    func u16(_ offset: Int) -> UInt16 { UInt16(u8(offset)) | UInt16(u8(offset + 1)) << 8 }
    func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16 }
    func u64(_ offset: Int) -> UInt64 { UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32 }
}
