import PeriscopeAPI
import Testing

struct PolicyValidationTests {
    typealias Spec = InstrumentationPolicy.Spec
    typealias Ports = InstrumentationPolicy.PortRange

    static let rejected: [(String, Spec, String, String)] = [
        ("duplicate port", Spec(ports: [Ports(port: 8080), Ports(port: 8080)]), "DuplicatePorts", "spec.ports[1] (8080) repeats spec.ports[0]"),
        ("duplicate range", Spec(ports: [Ports(port: 8000, endPort: 9000), Ports(port: 8000, endPort: 9000)]), "DuplicatePorts", "repeats"),
        (
            "overlapping ranges", Spec(ports: [Ports(port: 8000, endPort: 9000), Ports(port: 8080)]), "OverlappingPorts",
            "spec.ports[0] (8000-9000) and spec.ports[1] (8080) overlap"
        ),
        ("end below start", Spec(ports: [Ports(port: 9000, endPort: 8000)]), "InvalidSpec", "spec.ports[0].endPort"),
        ("unterminated glob", Spec(executables: ["/usr/bin/[abc"]), "InvalidGlob", "spec.executables[0]"),
        ("glob in exclude", Spec(exclude: .init(executables: [""])), "InvalidGlob", "spec.exclude.executables[0]"),
        ("pid traced and excluded", Spec(pids: [42], exclude: .init(pids: [42])), "ConflictingExcludes", "42"),
        ("executable traced and excluded", Spec(executables: ["*envoy*"], exclude: .init(executables: ["*envoy*"])), "ConflictingExcludes", "*envoy*"),
        ("exclude everything", Spec(exclude: .init(executables: ["*"])), "ConflictingExcludes", "excludes every process"),
        ("route reported and excluded", Spec(routes: ["/users/{id}"], exclude: .init(routes: ["/users/{id}"])), "ConflictingExcludes", "/users/{id}"),
        (
            "In without values", Spec(podSelector: PodSelector(matchExpressions: [.init(key: "tier", operator: "In", values: [])])),
            "InvalidSelector", "needs at least one value"
        ),
        (
            "Exists with values", Spec(podSelector: PodSelector(matchExpressions: [.init(key: "tier", operator: "Exists", values: ["x"])])),
            "InvalidSelector", "takes no values"
        ),
        ("container twice", Spec(containers: ["app", "app"]), "DuplicateContainers", "spec.containers[1]"),
        ("ratio sampler without ratio", Spec(sampling: .init(sampler: "traceidratio")), "InvalidSpec", "spec.sampling.ratio"),
        ("bad endpoint", Spec(export: .init(otlp: .init(endpoint: "ftp://collector"))), "InvalidSpec", "spec.export.otlp.endpoint"),
    ]

    @Test(arguments: rejected)
    func rejectsWhatTheSchemaCannot(_ name: String, _ spec: Spec, _ reason: String, _ fragment: String) {
        switch PolicyValidation.validate(spec) {
        case .success: Issue.record("\(name): accepted")
        case .failure(let rejection):
            #expect(rejection.reason.rawValue == reason, "\(name): \(rejection)")
            #expect(rejection.message.contains(fragment), "\(name): \(rejection.message)")
        }
    }

    static let accepted: [(String, Spec)] = [
        ("empty", Spec()),
        ("adjacent ranges", Spec(ports: [Ports(port: 8000, endPort: 8999), Ports(port: 9000)])),
        ("design example", Spec(
            podSelector: PodSelector(matchLabels: ["app": "checkout"]), containers: ["app"],
            ports: [Ports(port: 8000, endPort: 9000), Ports(port: 3000)], executables: ["*envoy*"], protocols: ["http", "tcp"],
            sampling: .init(sampler: "parentbased_traceidratio", ratio: "0.25"),
            exclude: .init(pids: [4242], executables: ["*healthcheck*"], routes: ["/healthz", "/metrics"]),
            export: .init(otlp: .init(endpoint: "http://otel-collector.observability:4318")), resourceAttributes: ["deployment.environment": "prod"])),
        ("every operator", Spec(podSelector: PodSelector(matchExpressions: [
            .init(key: "a", operator: "In", values: ["1"]), .init(key: "b", operator: "NotIn", values: ["2"]),
            .init(key: "c", operator: "Exists"), .init(key: "d", operator: "DoesNotExist"),
        ]))),
    ]

    @Test(arguments: accepted)
    func acceptsValidSpecs(_ name: String, _ spec: Spec) {
        if case .failure(let rejection) = PolicyValidation.validate(spec) { Issue.record("\(name): \(rejection)") }
    }

    @Test func effectiveSettingsFillEveryDefault() throws {
        let policy = try PolicyValidation.validate(Spec(ports: [Ports(port: 3000), Ports(port: 8000, endPort: 9000)])).get()
        let settings = NodeInstrumentation.PolicySettings(namespace: "shop", name: "p", generation: 4, policy: policy)
        #expect(settings.ports == [Ports(port: 3000), Ports(port: 8000, endPort: 9000)])
        #expect(settings.protocols == ["grpc", "http", "mysql", "postgresql", "redis", "tcp"])
        #expect(settings.sampling == .init(sampler: "parentbased_always_on", ratio: nil))
        #expect(settings.capture == .init(payloadBytes: 2048, keepQuery: false, keepQueryValues: false))
        #expect(settings.export == nil)
        #expect(settings.generation == 4)
    }
}
