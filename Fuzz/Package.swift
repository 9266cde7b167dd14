// swift-tools-version: 6.1
// libFuzzer targets for Periscope's decoders, a package of their own so they are never
// shipped: hack/fuzz.sh builds them with -sanitize=fuzzer and runs each for a bounded time
// over its seed corpus in Corpus/<target>/.
//
// Adding a fuzzer: a folder Sources/Fuzz<Name>/ with one file that exports
// LLVMFuzzerTestOneInput and hands it to `runFuzzer` from its `@main`, seeds in
// Corpus/Fuzz<Name>/, and its name in this list.
import PackageDescription

let fuzzers = [
    "FuzzHTTP1",
    "FuzzHTTP2",
    "FuzzHPACK",
    "FuzzPostgreSQL",
    "FuzzMySQL",
    "FuzzRedis",
    "FuzzPolicy",
    "FuzzELF",
    "FuzzGoBinary",
    "FuzzConnectionTracker",
]

let package = Package(
    name: "PeriscopeFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Periscope", path: "..")],
    targets: [
        // libFuzzer's driver, called from each fuzzer's main (SwiftPM names an executable's
        // entry point itself, so libFuzzer's own main cannot be used).
        .target(name: "CFuzzDriver"),
        // Runs the driver and splits a fuzzer's input into the reads and writes of a connection.
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver", .product(name: "PeriscopeCore", package: "Periscope")]),
    ] + fuzzers.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "PeriscopeCore", package: "Periscope")])
    }
)
