import Foundation
import Testing

/// The module graph as `Package.swift` declares it (read through `swift package dump-package`):
/// binaries never import each other's internals, the resource types live apart from the
/// controller, test support and benchmarks are never shipped, and every shipped module has its
/// own test target.
@Suite struct ModuleGraphTests {
    struct Target {
        var name: String
        var type: String
        var path: String?
        /// Targets of this package it depends on.
        var dependencies: Set<String>
    }

    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The manifest as JSON, evaluated by the toolchain building this package.
    static func manifest() throws -> [String: Any] {
        let scratch = NSTemporaryDirectory() + "periscope-manifest-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "dump-package", "--package-path", packageRoot, "--scratch-path", scratch]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let manifest = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ManifestError(description: "swift package dump-package failed (status \(process.terminationStatus))")
        }
        return manifest
    }

    struct ManifestError: Error, CustomStringConvertible { var description: String }

    static func targets() throws -> [String: Target] {
        var targets: [String: Target] = [:]
        for case let target as [String: Any] in try manifest()["targets"] as? [Any] ?? [] {
            guard let name = target["name"] as? String, let type = target["type"] as? String else { continue }
            var dependencies: Set<String> = []
            for case let dependency as [String: Any] in target["dependencies"] as? [Any] ?? [] {
                for key in ["byName", "target"] {
                    if let reference = dependency[key] as? [Any], let dependencyName = reference.first as? String {
                        dependencies.insert(dependencyName)
                    }
                }
            }
            targets[name] = Target(name: name, type: type, path: target["path"] as? String, dependencies: dependencies)
        }
        return targets
    }

    /// The Periscope modules each shipped module may depend on: exactly these.
    static let allowed: [String: Set<String>] = [
        "CPeriscopeBPF": [],
        "CPeriscopeCurl": [],
        "PeriscopeYAML": ["CYAML"],
        "PeriscopeCore": ["PeriscopeYAML"],
        "PeriscopeBPF": ["CLibBPF", "CPeriscopeBPF", "PeriscopeCore"],
        "PeriscopeSystem": [],
        "PeriscopeHTTPEndpoint": ["PeriscopeSystem"],
        "PeriscopeHTTPClient": ["CPeriscopeCurl", "PeriscopeSystem"],
        "PeriscopeKube": ["PeriscopeHTTPClient", "PeriscopeSystem", "PeriscopeYAML"],
        "PeriscopeAPI": ["PeriscopeCore", "PeriscopeKube"],
        "PeriscopeAgent": [
            "PeriscopeCore", "PeriscopeBPF", "PeriscopeHTTPEndpoint", "PeriscopeHTTPClient", "PeriscopeSystem", "CPeriscopeZlib",
            "CPeriscopeMalloc",
        ],
        "PeriscopeAgentKube": ["PeriscopeAgent", "PeriscopeAPI", "PeriscopeKube", "PeriscopeCore", "PeriscopeSystem"],
        "PeriscopeController": ["PeriscopeAPI", "PeriscopeCore", "PeriscopeKube", "PeriscopeHTTPEndpoint"],
        "PeriscopeCtl": ["PeriscopeAPI", "PeriscopeCore", "PeriscopeKube"],
        "periscope-agent": ["PeriscopeAgent", "PeriscopeAgentKube", "PeriscopeKube"],
        "periscope-controller": ["PeriscopeController", "PeriscopeKube"],
        "periscopectl": ["PeriscopeCtl", "PeriscopeKube"],
    ]

    static let testSupport: Set<String> = [
        "PeriscopeKubeTestServer", "PeriscopeTestSupport", "periscope-controller-bench", "periscope-pipeline-bench",
    ]

    @Test func shippedModulesDependOnExactlyWhatTheyMay() throws {
        let targets = try Self.targets()
        let shipped = targets.values.filter { $0.type == "regular" || $0.type == "executable" }.map(\.name)
        for name in shipped where !Self.testSupport.contains(name) {
            let target = try #require(targets[name])
            let expected = try #require(
                Self.allowed[name], "\(name) is a new module: add what it may depend on to ModuleGraphTests.allowed")
            let local = target.dependencies.filter { targets[$0] != nil }
            #expect(local == expected, "\(name) depends on \(local.sorted()), expected \(expected.sorted())")
        }
    }

    @Test func theControllerTheAgentAndPeriscopectlNeverImportEachOther() throws {
        let targets = try Self.targets()
        let binaries = ["PeriscopeController", "PeriscopeAgent", "PeriscopeAgentKube", "PeriscopeCtl"]
        for name in binaries {
            let closure = Self.closure(of: name, in: targets)
            let others = Set(binaries).subtracting([name]).subtracting(name == "PeriscopeAgentKube" ? ["PeriscopeAgent"] : [])
            #expect(closure.isDisjoint(with: others), "\(name) reaches \(closure.intersection(others).sorted())")
            if name != "PeriscopeAgent" { #expect(closure.contains("PeriscopeAPI"), "\(name) does not use the resource types") }
        }
        #expect(Self.closure(of: "PeriscopeAPI", in: targets).isDisjoint(with: binaries))
        // The pure core reaches nothing but the YAML parser (libyaml: bytes in, nodes out, no I/O).
        #expect(Self.closure(of: "PeriscopeCore", in: targets) == ["PeriscopeYAML", "CYAML"])
    }

    @Test func testSupportAndBenchmarksAreNeitherShippedNorInSources() throws {
        let targets = try Self.targets()
        let products = try Self.manifest()["products"] as? [[String: Any]] ?? []
        let productNames = Set(products.compactMap { $0["name"] as? String })
        // The three binaries, and the pure core as a library for the fuzzers' own package (Fuzz/).
        #expect(productNames == ["periscope-agent", "periscope-controller", "periscopectl", "PeriscopeCore"])
        for name in Self.testSupport {
            let target = try #require(targets[name])
            #expect(target.path?.hasPrefix("Tests/") == true, "\(name) lives at \(target.path ?? "Sources/\(name)")")
        }
        for product in products {
            for case let root as String in product["targets"] as? [Any] ?? [] {
                let reached = Self.closure(of: root, in: targets).union([root])
                #expect(reached.isDisjoint(with: Self.testSupport), "product \(product["name"] ?? "") links \(reached.intersection(Self.testSupport).sorted())")
            }
        }
    }

    @Test func everyShippedSwiftModuleHasItsOwnTestTarget() throws {
        let targets = try Self.targets()
        let modules = targets.values.filter { $0.type == "regular" && $0.name.hasPrefix("Periscope") && !Self.testSupport.contains($0.name) }
        #expect(!modules.isEmpty)
        for module in modules {
            let tests = try #require(targets["\(module.name)Tests"], "\(module.name) has no test target \(module.name)Tests")
            #expect(tests.type == "test")
            #expect(tests.dependencies.contains(module.name))
        }
    }

    /// Every target `name` reaches through dependencies, itself excluded.
    /// Foundation's full library brings its ICU data (34 MB) into every binary that links it;
    /// shipped code uses FoundationEssentials, and no shipped target has resources (SwiftPM's
    /// bundle accessor imports Foundation).
    @Test func noShippedModuleImportsFoundationOrHasResources() throws {
        let targets = try Self.targets()
        let shipped = targets.values.filter { ($0.type == "regular" || $0.type == "executable") && !Self.testSupport.contains($0.name) }
        #expect(!shipped.isEmpty)
        for target in shipped {
            let directory = "\(Self.packageRoot)/\(target.path ?? "Sources/\(target.name)")"
            guard let files = FileManager.default.enumerator(atPath: directory) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
                let imports = text.split(separator: "\n").filter { $0.hasPrefix("import Foundation") || $0.hasPrefix("@_exported import Foundation") }
                #expect(imports.allSatisfy { $0.hasPrefix("import FoundationEssentials") }, "\(target.name)/\(file) imports \(imports)")
            }
        }
        for case let target as [String: Any] in try Self.manifest()["targets"] as? [Any] ?? [] {
            guard let name = target["name"] as? String, !Self.testSupport.contains(name), target["type"] as? String != "test" else { continue }
            #expect((target["resources"] as? [Any] ?? []).isEmpty, "\(name) has resources")
        }
    }

    static func closure(of name: String, in targets: [String: Target]) -> Set<String> {
        var found: Set<String> = []
        var queue = Array(targets[name]?.dependencies ?? [])
        while let next = queue.popLast() {
            guard targets[next] != nil, found.insert(next).inserted else { continue }
            queue += targets[next]?.dependencies ?? []
        }
        return found
    }
}
