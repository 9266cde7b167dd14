// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Periscope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "periscope-agent", targets: ["periscope-agent"]),
        .executable(name: "periscope-controller", targets: ["periscope-controller"]),
        .executable(name: "periscopectl", targets: ["periscopectl"]),
        // For the fuzzers (Fuzz/, their own package), not shipped.
        .library(name: "PeriscopeCore", targets: ["PeriscopeCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libbpf from Debian's libbpf-dev.
        .systemLibrary(
            name: "CLibBPF",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev"])]
        ),
        // libyaml from Debian's libyaml-dev, and YAML text to nodes over it (policies, kubeconfig,
        // manifests).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(name: "PeriscopeYAML", dependencies: ["CYAML"]),
        // libcurl from Debian's libcurl4-openssl-dev (HTTP(S) for the Kubernetes API and
        // OTLP), with typed wrappers for its variadic calls.
        .target(
            name: "CPeriscopeCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // The one HTTP client over libcurl: connection reuse, HTTP/2 where offered, transfers on
        // threads of their own. The Kubernetes client and the OTLP exports use it.
        .target(name: "PeriscopeHTTPClient", dependencies: ["CPeriscopeCurl", "PeriscopeSystem"]),
        // zlib from Debian's zlib1g-dev, for gzip-compressed OTLP requests.
        .systemLibrary(
            name: "CPeriscopeZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // glibc's malloc tuning, which the Glibc module leaves out.
        .systemLibrary(name: "CPeriscopeMalloc"),
        // The event layout shared with the kernel programs, plus helpers Swift cannot import.
        .target(name: "CPeriscopeBPF"),
        // Compiles bpf/*.bpf.c with clang -target bpf during `swift build`.
        .plugin(name: "BPFCompiler", capability: .buildTool()),
        // The system calls Periscope makes (EINTR retried in one place) and threads of their own
        // for blocking work, off Swift's cooperative pool.
        .target(name: "PeriscopeSystem"),
        // Pure core: policy, selection, protocol decoders, span assembly, output. No I/O.
        .target(
            name: "PeriscopeCore",
            dependencies: ["PeriscopeYAML"]
        ),
        // Adapter around libbpf: loads the compiled programs, attaches them, reads the ring buffer.
        .target(
            name: "PeriscopeBPF",
            dependencies: ["CLibBPF", "CPeriscopeBPF", "PeriscopeCore"],
            plugins: ["BPFCompiler"]
        ),
        // The agent: /proc, policy file, BPF adapter and core wired together as services.
        // A plain HTTP/1.1 endpoint for health and metrics pages (agent and controller).
        .target(
            name: "PeriscopeHTTPEndpoint",
            dependencies: [
                "PeriscopeSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PeriscopeAgent",
            dependencies: [
                "PeriscopeCore", "PeriscopeBPF", "PeriscopeHTTPEndpoint", "PeriscopeHTTPClient", "PeriscopeSystem", "CPeriscopeZlib",
                "CPeriscopeMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The agent's Kubernetes mode: its node's NodeInstrumentation to processes, pod attributes, status.
        .target(
            name: "PeriscopeAgentKube",
            dependencies: [
                "PeriscopeAgent", "PeriscopeAPI", "PeriscopeKube", "PeriscopeCore", "PeriscopeSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "periscope-agent",
            dependencies: [
                "PeriscopeAgent", "PeriscopeAgentKube", "PeriscopeKube",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Kubernetes API client over libcurl: configuration, typed requests, watch, informer, leases.
        .target(
            name: "PeriscopeKube",
            dependencies: [
                "PeriscopeHTTPClient",
                "PeriscopeSystem",
                "PeriscopeYAML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The resource types of group periscope.dev (kubebuilder's api/<version>): InstrumentationPolicy,
        // NodeInstrumentation, conditions, and a spec's conversion to the policy model with its
        // validation. The controller, the agent's Kubernetes mode and periscopectl depend on it.
        .target(
            name: "PeriscopeAPI",
            dependencies: ["PeriscopeCore", "PeriscopeKube"]
        ),
        // The controller: InstrumentationPolicies resolved into one NodeInstrumentation per node.
        .target(
            name: "PeriscopeController",
            dependencies: [
                "PeriscopeAPI", "PeriscopeCore", "PeriscopeKube", "PeriscopeHTTPEndpoint",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "periscope-controller",
            dependencies: [
                "PeriscopeController", "PeriscopeKube",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // periscopectl: instrument and uninstrument namespaces, report status.
        .target(
            name: "PeriscopeCtl",
            dependencies: ["PeriscopeAPI", "PeriscopeCore", "PeriscopeKube", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "periscopectl",
            dependencies: [
                "PeriscopeCtl", "PeriscopeKube",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Test support, never shipped: an in-process Kubernetes API server with real semantics (plus
        // a TLS proxy and a kubectl runner), and helpers that start real programs.
        .target(
            name: "PeriscopeKubeTestServer",
            dependencies: ["PeriscopeKube", "PeriscopeYAML"],
            path: "Tests/PeriscopeKubeTestServer"
        ),
        .target(name: "PeriscopeTestSupport", path: "Tests/PeriscopeTestSupport"),
        // Scale benchmark of the controller against a real or the test API server (hack/bench-controller.sh);
        // an executable of this package, not a product.
        .executableTarget(
            name: "periscope-controller-bench",
            dependencies: [
                "PeriscopeAPI", "PeriscopeController", "PeriscopeKube", "PeriscopeKubeTestServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ControllerBenchmark"
        ),

        // The agent's user-space cost per request without the kernel (hack/bench-pipeline.sh).
        .executableTarget(
            name: "periscope-pipeline-bench",
            dependencies: ["PeriscopeAgent", "PeriscopeBPF", "CPeriscopeBPF", "PeriscopeCore"],
            path: "Tests/PipelineBenchmark"
        ),

        // One test target per shipped module.
        .testTarget(name: "PeriscopeCoreTests", dependencies: ["PeriscopeCore"]),
        .testTarget(name: "PeriscopeSystemTests", dependencies: ["PeriscopeSystem"]),
        .testTarget(name: "PeriscopeYAMLTests", dependencies: ["PeriscopeYAML"]),
        .testTarget(
            name: "PeriscopeHTTPClientTests",
            dependencies: ["PeriscopeHTTPClient", "PeriscopeKubeTestServer", "PeriscopeTestSupport", "PeriscopeKube"]
        ),
        .testTarget(name: "PeriscopeBPFTests", dependencies: ["PeriscopeBPF", "PeriscopeCore", "PeriscopeTestSupport"]),
        .testTarget(
            name: "PeriscopeHTTPEndpointTests",
            dependencies: ["PeriscopeHTTPEndpoint", "PeriscopeTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "PeriscopeKubeTests",
            dependencies: [
                "PeriscopeKube", "PeriscopeKubeTestServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "PeriscopeAPITests", dependencies: ["PeriscopeAPI", "PeriscopeCore", "PeriscopeKube"]),
        .testTarget(
            name: "PeriscopeAgentTests",
            dependencies: [
                "PeriscopeAgent", "PeriscopeAPI", "PeriscopeCore", "PeriscopeKube", "PeriscopeKubeTestServer", "PeriscopeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "PeriscopeAgentKubeTests", dependencies: ["PeriscopeAgentKube", "PeriscopeAgent", "PeriscopeAPI", "PeriscopeCore", "PeriscopeKube"]),
        .testTarget(
            name: "PeriscopeControllerTests",
            dependencies: [
                "PeriscopeController", "PeriscopeAPI", "PeriscopeKube", "PeriscopeKubeTestServer", "PeriscopeCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PeriscopeCtlTests",
            dependencies: ["PeriscopeCtl", "PeriscopeAPI", "PeriscopeKube", "PeriscopeKubeTestServer", "PeriscopeYAML"]
        ),
        // The test support itself: descriptors closed exactly once.
        .testTarget(name: "PeriscopeTestSupportTests", dependencies: ["PeriscopeTestSupport", "PeriscopeKubeTestServer"]),
        // The module graph itself: which module may depend on which.
        .testTarget(name: "PackageTests"),
    ]
)
