import Foundation
import PackagePlugin

/// Compiles every `bpf/*.bpf.c` of the package with clang's BPF target and embeds the objects,
/// base64-encoded, in one generated Swift source of the target that uses the plugin
/// (`BPFObjectImages.base64`, keyed by the source's name without `.bpf.c`). Embedded rather than
/// shipped as resources: a SwiftPM resource bundle brings its accessor's `import Foundation`, and
/// with it the ICU data, into every binary that links the target.
@main
struct BPFCompiler: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let includeDirectory = bpfDirectory.appending(path: "include")
        let sources = try FileManager.default.contentsOfDirectory(atPath: bpfDirectory.path)
            .filter { $0.hasSuffix(".bpf.c") }
            .sorted()
            .map { bpfDirectory.appending(path: $0) }
        let headers = try FileManager.default.contentsOfDirectory(atPath: includeDirectory.path)
            .filter { $0.hasSuffix(".h") }
            .map { includeDirectory.appending(path: $0) }
        let script = context.package.directoryURL.appending(path: "Plugins/BPFCompiler/embed-objects.sh")
        let clang = try context.tool(named: "clang").url
        // The programs read syscall registers and numbers of the architecture they run on
        // (bpf/include/periscope_arch.h); the build's host is the target.
        #if arch(arm64)
        let (architecture, multiarch) = ("arm64", "aarch64-linux-gnu")
        #else
        let (architecture, multiarch) = ("x86", "x86_64-linux-gnu")
        #endif
        let output = context.pluginWorkDirectoryURL.appending(path: "BPFObjectImages.swift")
        return [
            .buildCommand(
                displayName: "Compiling BPF programs \(sources.map(\.lastPathComponent).joined(separator: ", "))",
                executable: URL(filePath: "/bin/sh"),
                arguments: [
                    script.path, clang.path, output.path, context.pluginWorkDirectoryURL.path, architecture,
                    includeDirectory.path, "/usr/include/\(multiarch)",
                ] + sources.map(\.path),
                inputFiles: [script] + sources + headers,
                outputFiles: [output]
            )
        ]
    }
}
