import FuzzSupport
import PeriscopeCore

/// A Go executable as a traced process's filesystem could hold it: build info, symbols,
/// DWARF (plain, or "compressed" as the input's own bytes) and function code read for the
/// crypto/tls probes; and the same bytes as x86-64 code, as DWARF, and as a version string.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGoBinary(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSegments.bytes(data, size)
    if let returns = try? X86InstructionDecoder.returns(in: bytes) {
        fuzzCheck(zip(returns, returns.dropFirst()).allSatisfy { $0 < $1 } && returns.allSatisfy { $0 >= 0 && $0 < bytes.count },
                  "returns are in order, inside the code")
    }
    let half = bytes.count / 2
    let members: Set<DWARFStructReader.Member> = [.init("crypto/tls.Conn", "conn"), .init("internal/poll.FD", "Sysfd")]
    _ = DWARFStructReader.memberOffsets(info: Array(bytes[half...]), abbreviations: Array(bytes[..<half]), wanted: members)
    _ = GoVersion(String(decoding: bytes.prefix(64), as: UTF8.self))
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
    _ = GoBuildInfo.isGoBinary(file)
    _ = GoBuildInfo.version(of: file)
    let passThrough: GoTLSProbePlanner.Inflate = { compressed, size in compressed.count == size ? Array(compressed) : nil }
    if let plan = try? GoTLSProbePlanner.plan(for: file, inflate: passThrough) {
        fuzzCheck(plan.probes.first?.kind == .readEntry && plan.probes.last?.kind == .writeEntry, "Read's entry first, Write's entry last")
        fuzzCheck(plan.returnCount > 0, "a plan probes Read's returns")
    }
    return 0
}

@main
enum FuzzGoBinary {
    static func main() {
        runFuzzer(fuzzGoBinary)
    }
}
