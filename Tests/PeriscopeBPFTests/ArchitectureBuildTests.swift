import Foundation
import PeriscopeTestSupport
import Testing

/// The kernel programs build for every architecture the agent ships for, from one source.
/// Only the build's own architecture can be loaded here; loading the arm64 objects needs an
/// arm64 machine.
@Suite struct ArchitectureBuildTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["x86", "arm64"])
    func everyProgramCompilesToABPFObject(architecture: String) throws {
        let bpf = Self.root.appendingPathComponent("bpf")
        let sources = try FileManager.default.contentsOfDirectory(atPath: bpf.path).filter { $0.hasSuffix(".bpf.c") }.sorted()
        #expect(sources.count >= 2)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("periscope-arch-\(architecture)-\(getpid())")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: output) }
        // The UAPI integer types are the same on both (asm-generic/int-ll64.h): the host's
        // multiarch headers serve when the other architecture's are not installed.
        let multiarch = ["/usr/include/\(architecture == "arm64" ? "aarch64" : "x86_64")-linux-gnu", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"]
            .first { FileManager.default.fileExists(atPath: $0) }!
        for source in sources {
            let object = "\(output.path)/\(source).\(architecture).o"
            _ = try run("clang", [
                "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_\(architecture)", "-Wall", "-Werror", "-Wno-unused-function",
                "-I", bpf.appendingPathComponent("include").path, "-I", multiarch,
                "-c", bpf.appendingPathComponent(source).path, "-o", object,
            ])
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: object)))
            #expect(bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]), "\(source) for \(architecture) is an ELF object")
            #expect(bytes.count > 20 && UInt16(bytes[18]) | UInt16(bytes[19]) << 8 == 247, "\(source) for \(architecture) is for EM_BPF")
        }
    }
}
