import Foundation
import PackagePlugin

/// Compiles every `bpf/*.bpf.c` of the package into a `.bpf.o` with clang's BPF target.
/// The objects become resources of the target that uses the plugin and are loaded
/// at run time through `Bundle.module`.
@main
struct BPFCompiler: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let includeDirectory = bpfDirectory.appending(path: "include")
        let sources = try FileManager.default.contentsOfDirectory(atPath: bpfDirectory.path)
            .filter { $0.hasSuffix(".bpf.c") }
            .sorted()
        let headers = try FileManager.default.contentsOfDirectory(atPath: includeDirectory.path)
            .filter { $0.hasSuffix(".h") }
            .map { includeDirectory.appending(path: $0) }
        let clang = try context.tool(named: "clang").url
        // The programs read syscall registers and numbers of the architecture they run on
        // (bpf/include/periscope_arch.h); the build's host is the target.
        #if arch(arm64)
        let (architecture, multiarch) = ("arm64", "aarch64-linux-gnu")
        #else
        let (architecture, multiarch) = ("x86", "x86_64-linux-gnu")
        #endif
        return sources.map { source in
            let input = bpfDirectory.appending(path: source)
            let output = context.pluginWorkDirectoryURL
                .appending(path: String(source.dropLast(2)) + ".o")
            return .buildCommand(
                displayName: "Compiling BPF program \(source)",
                executable: clang,
                arguments: [
                    "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_\(architecture)",
                    "-Wall", "-Werror", "-Wno-unused-function",
                    "-I", includeDirectory.path,
                    "-I", "/usr/include/\(multiarch)",
                    "-c", input.path, "-o", output.path,
                ],
                // A program may include another's source (tracer_compat.bpf.c does).
                inputFiles: sources.map { bpfDirectory.appending(path: $0) } + headers,
                outputFiles: [output]
            )
        }
    }
}
