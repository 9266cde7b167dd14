import PeriscopeCore
import Testing

/// A small ELF64 little-endian shared object built in memory: one loaded segment at
/// virtual address 0x400000 (file offset 0), `.dynsym` with `.dynstr`, `.shstrtab`.
struct ELFBuilder {
    struct Symbol {
        var name: String
        var address: UInt64
        var type: UInt8 = 2  // STT_FUNC
        var defined = true
    }

    var symbols: [Symbol]
    var machine: UInt16 = 62
    var segmentAddress: UInt64 = 0x400000

    func build() -> [UInt8] {
        var dynstr: [UInt8] = [0]
        var dynsym = [UInt8](repeating: 0, count: 24)
        for symbol in symbols {
            let nameOffset = UInt32(dynstr.count)
            dynstr += Array(symbol.name.utf8) + [0]
            var entry: [UInt8] = []
            entry += le(nameOffset)
            entry.append(0x10 | symbol.type)  // STB_GLOBAL
            entry.append(0)
            entry += le(UInt16(symbol.defined ? 1 : 0))
            entry += le(symbol.address)
            entry += le(UInt64(16))
            dynsym += entry
        }
        let shstrtab: [UInt8] = [0] + Array(".dynsym\0.dynstr\0.shstrtab\0".utf8)
        let programOffset = 64
        let dynsymOffset = programOffset + 56
        let dynstrOffset = dynsymOffset + dynsym.count
        let shstrtabOffset = dynstrOffset + dynstr.count
        let sectionOffset = shstrtabOffset + shstrtab.count
        let total = sectionOffset + 4 * 64
        var bytes: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        bytes += le(UInt16(3)) + le(machine) + le(UInt32(1)) + le(UInt64(0))
        bytes += le(UInt64(programOffset)) + le(UInt64(sectionOffset)) + le(UInt32(0))
        bytes += le(UInt16(64)) + le(UInt16(56)) + le(UInt16(1)) + le(UInt16(64)) + le(UInt16(4)) + le(UInt16(3))
        // PT_LOAD, R+X, the whole file
        bytes += le(UInt32(1)) + le(UInt32(5)) + le(UInt64(0)) + le(segmentAddress) + le(segmentAddress)
        bytes += le(UInt64(total)) + le(UInt64(total)) + le(UInt64(0x1000))
        bytes += dynsym + dynstr + shstrtab
        func section(name: UInt32, type: UInt32, offset: Int, size: Int, link: UInt32, entrySize: UInt64) -> [UInt8] {
            le(name) + le(type) + le(UInt64(2)) + le(segmentAddress + UInt64(offset)) + le(UInt64(offset)) + le(UInt64(size))
                + le(link) + le(UInt32(0)) + le(UInt64(8)) + le(entrySize)
        }
        bytes += [UInt8](repeating: 0, count: 64)
        bytes += section(name: 1, type: 11, offset: dynsymOffset, size: dynsym.count, link: 2, entrySize: 24)
        bytes += section(name: 9, type: 3, offset: dynstrOffset, size: dynstr.count, link: 0, entrySize: 0)
        bytes += section(name: 17, type: 3, offset: shstrtabOffset, size: shstrtab.count, link: 0, entrySize: 0)
        return bytes
    }

    private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

func reader(_ bytes: [UInt8]) -> ELFFile.Reader {
    { offset, count in
        guard offset < UInt64(bytes.count) else { return [] }
        let start = Int(offset)
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}

@Suite struct ELFFileTests {
    let libssl = ELFBuilder(symbols: [
        .init(name: "SSL_read", address: 0x400100),
        .init(name: "SSL_write", address: 0x400180),
        .init(name: "SSL_write_ex", address: 0x4001c0),
        .init(name: "SSL_read_ex", address: 0, defined: false),
        .init(name: "SSL_version_str", address: 0x400200, type: 1),
        .init(name: "SSL_do_handshake", address: 0x9000000),
    ])

    @Test func findsDefinedFunctionsAndTheirFileOffsets() throws {
        let file = try ELFFile(read: reader(libssl.build()))
        #expect(file.machine == .x86_64)
        #expect(file.sections.map(\.name) == ["", ".dynsym", ".dynstr", ".shstrtab"])
        let found = try file.functions(named: ["SSL_read", "SSL_write", "SSL_write_ex", "SSL_read_ex", "SSL_version_str", "SSL_do_handshake"])
        #expect(found["SSL_read"] == ELFSymbol(name: "SSL_read", address: 0x400100, size: 16, fileOffset: 0x100))
        #expect(found["SSL_write_ex"]?.fileOffset == 0x1c0)
        #expect(found["SSL_read_ex"] == nil, "undefined here")
        #expect(found["SSL_version_str"] == nil, "not a function")
        #expect(found["SSL_do_handshake"] == nil, "outside every loaded segment")
    }

    @Test func plansOpenSSLProbesAtEntriesAndReturns() throws {
        let plan = try #require(try TLSProbePlanner.plan(for: ELFFile(read: reader(libssl.build()))))
        #expect(plan.library == .openssl)
        #expect(plan.entries == [
            .init(offset: 0x100, function: .sslRead), .init(offset: 0x180, function: .sslWrite), .init(offset: 0x1c0, function: .sslWriteEx),
        ])
        #expect(plan.returns == plan.entries)
    }

    @Test func aFileWithoutOpenSSLGetsNoPlan() throws {
        let other = ELFBuilder(symbols: [.init(name: "SSL_read", address: 0x400100), .init(name: "main", address: 0x400180)])
        #expect(try TLSProbePlanner.plan(for: ELFFile(read: reader(other.build()))) == nil)
    }

    @Test(arguments: [
        ([UInt8](), ELFError.Code.notELF), (Array("#!/bin/sh\n".utf8), .notELF),
        ([0x7f, 0x45, 0x4c, 0x46, 1, 1] + [UInt8](repeating: 0, count: 58), .notELF),
        ([0x7f, 0x45, 0x4c, 0x46, 2, 2] + [UInt8](repeating: 0, count: 58), .notELF),
    ])
    func refusesWhatIsNotA64BitLittleEndianELF(bytes: [UInt8], code: ELFError.Code) {
        #expect(throws: ELFError.self) { try ELFFile(read: reader(bytes)) }
        do { _ = try ELFFile(read: reader(bytes)) } catch { #expect(error.code == code) }
    }

    /// Every truncation and every single corrupted byte gives an error or a smaller answer,
    /// never a crash.
    @Test func survivesEveryTruncationAndCorruptedByte() {
        let bytes = libssl.build()
        let names: Set<String> = ["SSL_read", "SSL_write", "SSL_write_ex"]
        for length in 0..<bytes.count {
            if let file = try? ELFFile(read: reader(Array(bytes.prefix(length)))) {
                _ = try? file.functions(named: names)
                _ = try? TLSProbePlanner.plan(for: file)
            }
        }
        for index in bytes.indices {
            for value: UInt8 in [0x00, 0xff, 0x80] {
                var corrupted = bytes
                corrupted[index] = value
                if let file = try? ELFFile(read: reader(corrupted)) {
                    _ = try? file.functions(named: names)
                    _ = try? file.functions { $0.hasPrefix("SSL") }
                }
            }
        }
    }
}
