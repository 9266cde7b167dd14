import FuzzSupport
import PeriscopeCore

/// An ELF file as a traced process's filesystem could hold it: headers, tables and symbols
/// read for the TLS probes, and `/proc/<pid>/maps` text parsed for the files to open.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzELF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSegments.bytes(data, size)
    _ = MappedFile.parse(maps: String(decoding: bytes, as: UTF8.self))
    let file: ELFFile
    do {
        file = try ELFFile { offset, count in
            guard offset < UInt64(bytes.count), count > 0 else { return [] }
            let start = Int(offset)
            return Array(bytes[start..<min(bytes.count, start + count)])
        }
    } catch {
        return 0
    }
    if let symbols = try? file.functions(named: Set(TLSFunction.allCases.map(\.symbol))) {
        for symbol in symbols.values {
            fuzzCheck(file.fileOffset(ofAddress: symbol.address) == symbol.fileOffset, "a symbol's offset is its address's")
        }
    }
    _ = try? file.functions { $0.hasPrefix("crypto/tls") }
    if let plan = try? TLSProbePlanner.plan(for: file) {
        fuzzCheck(!plan.entries.isEmpty, "a plan has probes")
    }
    for section in file.sections.prefix(64) {
        _ = file.contents(of: section, limit: 1 << 20)
    }
    return 0
}

@main
enum FuzzELF {
    static func main() {
        runFuzzer(fuzzELF)
    }
}
