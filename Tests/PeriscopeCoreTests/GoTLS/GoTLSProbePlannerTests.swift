import PeriscopeCore
import Testing

/// A 64-bit little-endian ELF executable built in memory from sections: one loaded segment
/// at 0x400000 covering the whole file, `.symtab` (with `.strtab`) built from `symbols`.
struct SectionedELFBuilder {
    struct Section {
        var name: String
        var type: UInt32 = 1  // PROGBITS
        var flags: UInt64 = 2  // SHF_ALLOC
        var bytes: [UInt8]
    }

    struct Symbol {
        var name: String
        /// The symbol's section and offset within it.
        var section: String
        var offset: Int
        var size: Int
        var type: UInt8 = 2  // STT_FUNC
    }

    var sections: [Section]
    var symbols: [Symbol] = []
    var machine: UInt16 = 62
    static let base: UInt64 = 0x400000

    func build() -> [UInt8] {
        var all = sections
        // Where each section's contents start: after the ELF header and one program header.
        var offsets: [Int] = []
        var cursor = 64 + 56
        func place(_ count: Int) -> Int {
            cursor = (cursor + 7) & ~7
            defer { cursor += count }
            return cursor
        }
        for section in all { offsets.append(place(section.bytes.count)) }
        if !symbols.isEmpty {
            var strtab: [UInt8] = [0]
            var symtab = [UInt8](repeating: 0, count: 24)
            for symbol in symbols {
                let index = all.firstIndex { $0.name == symbol.section }!
                let address = Self.base + UInt64(offsets[index] + symbol.offset)
                symtab += le(UInt32(strtab.count)) + [0x10 | symbol.type, 0] + le(UInt16(index + 1)) + le(address) + le(UInt64(symbol.size))
                strtab += Array(symbol.name.utf8) + [0]
            }
            all.append(Section(name: ".symtab", type: 2, flags: 0, bytes: symtab))
            offsets.append(place(symtab.count))
            all.append(Section(name: ".strtab", type: 3, flags: 0, bytes: strtab))
            offsets.append(place(strtab.count))
        }
        var shstrtab: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for section in all + [Section(name: ".shstrtab", type: 3, flags: 0, bytes: [])] {
            nameOffsets.append(UInt32(shstrtab.count))
            shstrtab += Array(section.name.utf8) + [0]
        }
        all.append(Section(name: ".shstrtab", type: 3, flags: 0, bytes: shstrtab))
        offsets.append(place(shstrtab.count))
        let sectionHeaders = (cursor + 7) & ~7
        let total = sectionHeaders + (all.count + 1) * 64
        var bytes: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        bytes += le(UInt16(2)) + le(machine) + le(UInt32(1)) + le(Self.base)
        bytes += le(UInt64(64)) + le(UInt64(sectionHeaders)) + le(UInt32(0))
        bytes += le(UInt16(64)) + le(UInt16(56)) + le(UInt16(1)) + le(UInt16(64)) + le(UInt16(all.count + 1)) + le(UInt16(all.count))
        bytes += le(UInt32(1)) + le(UInt32(5)) + le(UInt64(0)) + le(Self.base) + le(Self.base)
        bytes += le(UInt64(total)) + le(UInt64(total)) + le(UInt64(0x1000))
        for (index, section) in all.enumerated() {
            bytes += [UInt8](repeating: 0, count: offsets[index] - bytes.count)
            bytes += section.bytes
        }
        bytes += [UInt8](repeating: 0, count: sectionHeaders - bytes.count)
        bytes += [UInt8](repeating: 0, count: 64)
        for (index, section) in all.enumerated() {
            let symtabLink: UInt32 = section.type == 2 ? UInt32(index + 2) : 0  // .strtab follows .symtab
            let address = section.flags & 2 != 0 ? Self.base + UInt64(offsets[index]) : 0
            bytes += le(nameOffsets[index]) + le(section.type) + le(section.flags) + le(address) + le(UInt64(offsets[index]))
            bytes += le(UInt64(section.bytes.count)) + le(symtabLink) + le(UInt32(0)) + le(UInt64(1)) + le(UInt64(section.type == 2 ? 24 : 0))
        }
        return bytes
    }
}

@Suite struct GoTLSProbePlannerTests {
    /// crypto/tls.(*Conn).Read: a prologue, two returns (one inside a C3 immediate is not).
    static let readCode = X86InstructionDecoderTests.bytes(
        "49 3b 66 10 0f 86 20 00 00 00 48 83 ec 68 b8 c3 00 00 00 48 83 c4 68 c3 48 8b 6c 24 60 48 83 c4 68 c3 e8 00 00 00 00 eb c8"
    )
    static let writeCode = X86InstructionDecoderTests.bytes("49 3b 66 10 76 05 31 c0 c3 cc cc")

    static func buildInfo(_ version: String) -> [UInt8] {
        var bytes = ([0xff] + Array(" Go buildinf:".utf8)) + [8, 2] + [UInt8](repeating: 0, count: 16)
        bytes += [UInt8(version.utf8.count)] + Array(version.utf8) + [0]
        return bytes
    }

    static func goExecutable(
        version: String? = "go1.19.8", dwarf: DWARFSections = .plain, symbols: Bool = true, itab: String? = "go.itab.*net.TCPConn,net.Conn",
        readCode: [UInt8] = readCode, machine: UInt16 = 62
    ) -> [UInt8] {
        var sections = [SectionedELFBuilder.Section(name: ".text", flags: 6, bytes: readCode + [0xcc] + writeCode)]
        sections.append(.init(name: ".rodata", bytes: [UInt8](repeating: 0, count: 64)))
        if let version { sections.append(.init(name: ".go.buildinfo", flags: 3, bytes: buildInfo(version))) }
        sections.append(.init(name: ".note.go.buildid", type: 7, bytes: [UInt8](repeating: 0, count: 16)))
        let info = DWARFBuilder.goTLS.info()
        switch dwarf {
        case .none:
            break
        case .plain:
            sections.append(.init(name: ".debug_abbrev", flags: 0, bytes: DWARFBuilder.abbreviations))
            sections.append(.init(name: ".debug_info", flags: 0, bytes: info))
        case .compressed:
            // Elf64_Chdr: ZLIB, the inflated size, alignment; then the "stream" the test's
            // inflate hands back as it is.
            func chdr(_ bytes: [UInt8]) -> [UInt8] { le(UInt32(1)) + le(UInt32(0)) + le(UInt64(bytes.count)) + le(UInt64(1)) + bytes }
            sections.append(.init(name: ".debug_abbrev", flags: 0x800, bytes: chdr(DWARFBuilder.abbreviations)))
            sections.append(.init(name: ".debug_info", flags: 0x800, bytes: chdr(info)))
        case .zdebug:
            func zlib(_ bytes: [UInt8]) -> [UInt8] { Array("ZLIB".utf8) + withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { Array($0) } + bytes }
            sections.append(.init(name: ".zdebug_abbrev", flags: 0, bytes: zlib(DWARFBuilder.abbreviations)))
            sections.append(.init(name: ".zdebug_info", flags: 0, bytes: zlib(info)))
        }
        var builder = SectionedELFBuilder(sections: sections, machine: machine)
        if symbols {
            builder.symbols = [
                .init(name: "crypto/tls.(*Conn).Read", section: ".text", offset: 0, size: readCode.count),
                .init(name: "crypto/tls.(*Conn).Write", section: ".text", offset: readCode.count + 1, size: writeCode.count),
                .init(name: "runtime.main", section: ".text", offset: 0, size: 4),
            ]
            if let itab { builder.symbols.append(.init(name: itab, section: ".rodata", offset: 8, size: 32, type: 1)) }
        }
        return builder.build()
    }

    enum DWARFSections { case none, plain, compressed, zdebug }

    /// Hands the "stream" back as it is when it has the announced size.
    static let passThrough: GoTLSProbePlanner.Inflate = { compressed, size in compressed.count == size ? Array(compressed) : nil }

    static func plan(_ bytes: [UInt8]) throws(GoTLSProbePlanner.Refusal) -> GoTLSProbePlan? {
        let file: ELFFile
        do { file = try ELFFile(read: reader(bytes)) } catch { throw .unreadable(error) }
        return try GoTLSProbePlanner.plan(for: file, inflate: passThrough)
    }

    @Test(arguments: [DWARFSections.plain, .compressed, .zdebug])
    func probesReadAtEntryAndEveryReturnAndWriteAtEntry(dwarf: DWARFSections) throws {
        let bytes = Self.goExecutable(dwarf: dwarf)
        let plan = try #require(try Self.plan(bytes))
        let file = try ELFFile(read: reader(bytes))
        let read = try #require(try file.functions(named: ["crypto/tls.(*Conn).Read"]).values.first)
        let write = try #require(try file.functions(named: ["crypto/tls.(*Conn).Write"]).values.first)
        #expect(plan.probes == [
            .init(offset: read.fileOffset, kind: .readEntry),
            .init(offset: read.fileOffset + 23, kind: .readReturn),
            .init(offset: read.fileOffset + 33, kind: .readReturn),
            .init(offset: write.fileOffset, kind: .writeEntry),
        ])
        #expect(plan.readAddress == read.address && plan.writeAddress == write.address)
        #expect(plan.goVersion == "go1.19.8")
        #expect(plan.offsets == GoTLSFieldOffsets(connInTLSConn: 0, fdInConn: 0, pfdInNetFD: 0, sysfdInFD: 16, source: .dwarf))
        let itab = try #require(try file.objects(named: ["go.itab.*net.TCPConn,net.Conn"]).values.first)
        #expect(plan.tcpConnItab == itab.address)
        #expect(plan.returnCount == 2)
    }

    /// Without DWARF, the layout comes from the table for the binary's Go version; the
    /// itab's name since Go 1.20 is found as well.
    @Test func takesOffsetsFromTheVersionTableWithoutDWARF() throws {
        let plan = try #require(try Self.plan(Self.goExecutable(version: "go1.22.5", dwarf: .none, itab: "go:itab.*net.TCPConn,net.Conn")))
        #expect(plan.offsets.source == .versionTable && plan.offsets.sysfdInFD == 16)
        #expect(plan.tcpConnItab != nil)
        #expect(plan.goVersion == "go1.22.5")
    }

    @Test func goesWithoutTheItabWhenTheSymbolTableHasNone() throws {
        let plan = try #require(try Self.plan(Self.goExecutable(itab: nil)))
        #expect(plan.tcpConnItab == nil)
    }

    @Test func refusesStrippedExecutables() {
        #expect { try Self.plan(Self.goExecutable(symbols: false)) } throws: { ($0 as? GoTLSProbePlanner.Refusal)?.code == "tls.no_symbols" }
    }

    @Test(arguments: ["go1.16.15", "go1.10"])
    func refusesReleasesBeforeTheRegisterABI(_ version: String) {
        #expect { try Self.plan(Self.goExecutable(version: version)) } throws: {
            ($0 as? GoTLSProbePlanner.Refusal)?.code == "tls.unsupported_version"
        }
    }

    /// A release newer than the table, without DWARF to learn its layout from; and one whose
    /// version is not recorded.
    @Test func refusesUnknownLayoutsWithoutDWARF() {
        #expect { try Self.plan(Self.goExecutable(version: "go1.40.1", dwarf: .none)) } throws: {
            ($0 as? GoTLSProbePlanner.Refusal)?.code == "tls.unsupported_version"
        }
        #expect { try Self.plan(Self.goExecutable(version: nil)) } throws: {
            ($0 as? GoTLSProbePlanner.Refusal)?.code == "tls.unsupported_version"
        }
        let learnt = try? Self.plan(Self.goExecutable(version: "go1.40.1", dwarf: .plain))
        #expect(learnt?.offsets.source == .dwarf, "with DWARF, a newer release's layout is learnt")
    }

    @Test func refusesCodeItCannotWalk() {
        #expect { try Self.plan(Self.goExecutable(readCode: [0x49, 0x3b, 0x66, 0x10, 0x06, 0xc3])) } throws: {
            ($0 as? GoTLSProbePlanner.Refusal)?.code == "tls.undecodable_code"
        }
        #expect { try Self.plan(Self.goExecutable(readCode: [0x49, 0x3b, 0x66, 0x10, 0x90])) } throws: {
            ($0 as? GoTLSProbePlanner.Refusal)?.code == "tls.undecodable_code"
        }
    }

    @Test func findsArm64Returns() throws {
        let ret: [UInt8] = [0xc0, 0x03, 0x5f, 0xd6]
        let nop: [UInt8] = [0x1f, 0x20, 0x03, 0xd5]
        let plan = try #require(try Self.plan(Self.goExecutable(readCode: nop + ret + nop + ret, machine: 183)))
        #expect(plan.probes.filter { $0.kind == .readReturn }.map { $0.offset - plan.probes[0].offset } == [4, 12])
    }

    /// Not a Go program, or a Go program without crypto/tls: nothing to probe, no refusal.
    @Test func leavesOtherExecutablesAlone() throws {
        let plain = SectionedELFBuilder(sections: [.init(name: ".text", flags: 6, bytes: [0xc3])]).build()
        #expect(try Self.plan(plain) == nil)
        var withoutTLS = SectionedELFBuilder(sections: [
            .init(name: ".text", flags: 6, bytes: [0xc3]), .init(name: ".go.buildinfo", flags: 3, bytes: Self.buildInfo("go1.19.8")),
        ])
        withoutTLS.symbols = [.init(name: "main.main", section: ".text", offset: 0, size: 1)]
        #expect(try Self.plan(withoutTLS.build()) == nil)
    }

    @Test func readsTheVersionFromBuildInfoOrRuntimeBuildVersion() throws {
        let file = try ELFFile(read: reader(Self.goExecutable(version: "go1.21.3")))
        #expect(GoBuildInfo.isGoBinary(file) && GoBuildInfo.version(of: file) == "go1.21.3")
        // Before Go 1.18: pointers to a string header (here, runtime.buildVersion's).
        let text = Array("go1.17.2".utf8)
        var rodata = [UInt8](repeating: 0, count: 16) + text
        var builder = SectionedELFBuilder(sections: [
            .init(name: ".text", flags: 6, bytes: [0xc3]),
            .init(name: ".rodata", bytes: rodata),
            .init(name: ".go.buildinfo", flags: 3, bytes: ([0xff] + Array(" Go buildinf:".utf8)) + [8, 0] + [UInt8](repeating: 0, count: 16)),
        ])
        builder.symbols = [.init(name: "runtime.buildVersion", section: ".rodata", offset: 0, size: 16, type: 1)]
        // The string header at the start of .rodata points at the text after it.
        let layout = try ELFFile(read: reader(builder.build()))
        let rodataAddress = try #require(layout.section(named: ".rodata")).address
        rodata.replaceSubrange(0..<16, with: le(rodataAddress + 16) + le(UInt64(text.count)))
        builder.sections[1].bytes = rodata
        var info = ([0xff] + Array(" Go buildinf:".utf8)) + [8, 0]
        info += le(rodataAddress) + le(UInt64(0)) + [UInt8](repeating: 0, count: 8)
        builder.sections[2].bytes = info
        let old = try ELFFile(read: reader(builder.build()))
        #expect(GoBuildInfo.version(of: old) == "go1.17.2")
    }
}
