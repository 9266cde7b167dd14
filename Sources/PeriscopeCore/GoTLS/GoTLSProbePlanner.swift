/// Decides whether and where a Go executable gets crypto/tls probes. Pure: the file is read
/// through `ELFFile`'s reader and compressed DWARF through the `Inflate` it is given.
public enum GoTLSProbePlanner {
    /// Why a Go executable gets no probes.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not an ELF file this agent reads, or a broken one.
        case unreadable(ELFError)
        /// Stripped: crypto/tls's functions cannot be found.
        case noSymbols(String)
        /// Built by a Go release the probes cannot read (before the register ABI, or a
        /// layout this agent does not know and no DWARF to learn it from).
        case unsupportedVersion(String)
        case unsupportedArchitecture(String)
        /// A function's code could not be walked to its return instructions.
        case undecodableCode(String)

        public var code: String {
            switch self {
            case .unreadable(let error): error.code.rawValue
            case .noSymbols: "tls.no_symbols"
            case .unsupportedVersion: "tls.unsupported_version"
            case .unsupportedArchitecture: "tls.unsupported_architecture"
            case .undecodableCode: "tls.undecodable_code"
            }
        }

        public var description: String {
            switch self {
            case .unreadable(let error): error.description
            case .noSymbols(let what), .unsupportedVersion(let what), .unsupportedArchitecture(let what),
                 .undecodableCode(let what):
                "\(code): \(what)"
            }
        }
    }

    /// Inflates a zlib stream into `size` bytes; nil when it does not.
    public typealias Inflate = @Sendable (_ compressed: ArraySlice<UInt8>, _ size: Int) -> [UInt8]?

    static let readSymbol = "crypto/tls.(*Conn).Read"
    static let writeSymbol = "crypto/tls.(*Conn).Write"
    /// The itab's name before Go 1.20 and since.
    static let tcpConnItabSymbols = ["go.itab.*net.TCPConn,net.Conn", "go:itab.*net.TCPConn,net.Conn"]
    /// A function larger than this is not walked.
    static let maxFunctionBytes: UInt64 = 1 << 20
    /// DWARF sections larger than this (inflated) are not read.
    public static let maxDebugBytes = 256 << 20

    /// The probes for `file`; nil when it is not a Go executable or does not contain
    /// crypto/tls (not an error).
    public static func plan(for file: ELFFile, inflate: Inflate) throws(Refusal) -> GoTLSProbePlan? {
        guard GoBuildInfo.isGoBinary(file) else { return nil }
        let versionText = GoBuildInfo.version(of: file)
        let symbols: [String: ELFSymbol]
        do {
            symbols = try file.functions(named: [readSymbol, writeSymbol])
        } catch {
            throw .unreadable(error)
        }
        guard let read = symbols[readSymbol], let write = symbols[writeSymbol] else {
            if file.sections.contains(where: { $0.type == ELFFile.sectionTypeSymbolTable }) { return nil }
            throw .noSymbols("a Go executable without a symbol table (stripped): crypto/tls.(*Conn).Read cannot be found")
        }
        guard let versionText, let version = GoVersion(versionText) else {
            throw .unsupportedVersion("the Go version it was built with is not recorded (\(versionText ?? "no build info"))")
        }
        let registerABI: GoVersion
        switch file.machine {
        case .x86_64: registerABI = GoVersion(1, 17)
        case .aarch64: registerABI = GoVersion(1, 18)
        case .other(let machine):
            throw .unsupportedArchitecture("ELF machine \(machine); crypto/tls is probed on x86-64 and arm64")
        }
        guard version >= registerABI else {
            throw .unsupportedVersion("\(versionText) passes arguments on the stack; the probes read Go's register ABI (\(registerABI)+)")
        }
        let offsets: GoTLSFieldOffsets
        if let fromDWARF = dwarfOffsets(file, inflate: inflate) {
            offsets = fromDWARF
        } else if let fromTable = GoTLSFieldOffsets.table(for: version) {
            offsets = fromTable
        } else {
            throw .unsupportedVersion("\(versionText) has no DWARF and is outside the known layouts (\(GoTLSFieldOffsets.tableRange.lowerBound) to before \(GoTLSFieldOffsets.tableRange.upperBound))")
        }
        let returns = try returnOffsets(of: read, in: file)
        var probes = [GoTLSProbePlan.Probe(offset: read.fileOffset, kind: .readEntry)]
        probes += returns.map { .init(offset: read.fileOffset + UInt64($0), kind: .readReturn) }
        probes.append(.init(offset: write.fileOffset, kind: .writeEntry))
        let itabs = (try? file.objects(named: Set(tcpConnItabSymbols))) ?? [:]
        let itab = tcpConnItabSymbols.lazy.compactMap { itabs[$0]?.address }.first
        return GoTLSProbePlan(
            goVersion: versionText, offsets: offsets, readAddress: read.address, writeAddress: write.address,
            tcpConnItab: itab, probes: probes
        )
    }

    /// The offsets of `function`'s return instructions from its start.
    static func returnOffsets(of function: ELFSymbol, in file: ELFFile) throws(Refusal) -> [Int] {
        guard function.size > 0, function.size <= maxFunctionBytes else {
            throw .undecodableCode("\(function.name) has a size of \(function.size) bytes in the symbol table")
        }
        let code = file.bytes(atAddress: function.address, count: Int(function.size))
        guard code.count == Int(function.size) else {
            throw .undecodableCode("\(function.name) lies outside the file")
        }
        let returns: [Int]
        switch file.machine {
        case .aarch64:
            returns = ARM64Returns.offsets(in: code)
        default:
            do {
                returns = try X86InstructionDecoder.returns(in: code)
            } catch {
                throw .undecodableCode("\(function.name) \(error)")
            }
        }
        guard !returns.isEmpty else { throw .undecodableCode("\(function.name) has no return instruction") }
        return returns
    }

    /// Struct offsets from the binary's DWARF, when it has all of them.
    static func dwarfOffsets(_ file: ELFFile, inflate: Inflate) -> GoTLSFieldOffsets? {
        guard let info = debugSection("info", of: file, inflate: inflate),
              let abbreviations = debugSection("abbrev", of: file, inflate: inflate) else { return nil }
        let found = DWARFStructReader.memberOffsets(info: info, abbreviations: abbreviations, wanted: Set(GoTLSFieldOffsets.members))
        return GoTLSFieldOffsets(dwarf: found)
    }

    /// The contents of `.debug_<name>`: plain, `SHF_COMPRESSED` (an `Elf64_Chdr` then a zlib
    /// stream, Go 1.12+ with external linking and 1.19+), or `.zdebug_<name>` ("ZLIB", a
    /// big-endian size, a zlib stream, Go 1.11 to 1.18).
    static func debugSection(_ name: String, of file: ELFFile, inflate: Inflate) -> [UInt8]? {
        if let section = file.section(named: ".debug_\(name)") {
            let bytes = file.contents(of: section)
            guard !bytes.isEmpty else { return nil }
            guard section.flags & ELFFile.compressedFlag != 0 else { return bytes }
            let header = ByteView(bytes)
            guard bytes.count > 24, header.u32(0) == 1 else { return nil }  // ELFCOMPRESS_ZLIB
            let size = header.u64(8)
            guard size > 0, size <= UInt64(maxDebugBytes) else { return nil }
            return inflated(bytes[24...], size: Int(size), inflate)
        }
        if let section = file.section(named: ".zdebug_\(name)") {
            let bytes = file.contents(of: section)
            guard bytes.count > 12, Array(bytes[0..<4]) == Array("ZLIB".utf8) else { return nil }
            var size: UInt64 = 0
            for byte in bytes[4..<12] { size = size << 8 | UInt64(byte) }
            guard size > 0, size <= UInt64(maxDebugBytes) else { return nil }
            return inflated(bytes[12...], size: Int(size), inflate)
        }
        return nil
    }

    private static func inflated(_ compressed: ArraySlice<UInt8>, size: Int, _ inflate: Inflate) -> [UInt8]? {
        guard let bytes = inflate(compressed, size), bytes.count == size else { return nil }
        return bytes
    }
}

/// Return instructions of arm64 code: every `RET Xn` among its 4-byte instructions.
enum ARM64Returns {
    static func offsets(in code: [UInt8]) -> [Int] {
        var found: [Int] = []
        var offset = 0
        while offset + 4 <= code.count {
            let word = ByteView(code, base: offset).u32(0)
            if word & 0xFFFF_FC1F == 0xD65F_0000 { found.append(offset) }
            offset += 4
        }
        return found
    }
}
