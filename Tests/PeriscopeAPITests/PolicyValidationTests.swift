import Foundation
import PeriscopeAPI
import PeriscopeCore
import Testing

struct PolicyValidationTests {
    typealias Spec = InstrumentationPolicy.Spec

    static let rejected: [(String, Spec, String, String)] = [
        ("duplicate port", Spec(["ports": [["port": 8080], ["port": 8080]]]), "DuplicatePorts", "spec.ports[1] (8080) repeats spec.ports[0]"),
        ("duplicate range", Spec(["ports": [["port": 8000, "endPort": 9000], ["port": 8000, "endPort": 9000]]]), "DuplicatePorts", "repeats"),
        (
            "overlapping ranges", Spec(["ports": [["port": 8000, "endPort": 9000], ["port": 8080]]]), "OverlappingPorts",
            "spec.ports[0] (8000-9000) and spec.ports[1] (8080) overlap"
        ),
        ("end below start", Spec(["ports": [["port": 9000, "endPort": 8000]]]), "InvalidSpec", "spec.ports[0].endPort"),
        ("unterminated glob", Spec(["executables": ["/usr/bin/[abc"]]), "InvalidGlob", "spec.executables[0]"),
        ("glob in exclude", Spec(["exclude": ["executables": [""]]]), "InvalidGlob", "spec.exclude.executables[0]"),
        ("pid traced and excluded", Spec(["pids": [42], "exclude": ["pids": [42]]]), "ConflictingExcludes", "42"),
        ("executable traced and excluded", Spec(["executables": ["*envoy*"], "exclude": ["executables": ["*envoy*"]]]), "ConflictingExcludes", "*envoy*"),
        ("exclude everything", Spec(["exclude": ["executables": ["*"]]]), "ConflictingExcludes", "excludes every process"),
        ("route reported and excluded", Spec(["routes": ["/users/{id}"], "exclude": ["routes": ["/users/{id}"]]]), "ConflictingExcludes", "/users/{id}"),
        (
            "In without values", Spec(["podSelector": ["matchExpressions": [["key": "tier", "operator": "In", "values": []]]]]),
            "InvalidSelector", "needs at least one value"
        ),
        (
            "Exists with values", Spec(["podSelector": ["matchExpressions": [["key": "tier", "operator": "Exists", "values": ["x"]]]]]),
            "InvalidSelector", "takes no values"
        ),
        ("selector of the wrong shape", Spec(["podSelector": ["matchLabels": ["a", "b"]]]), "InvalidSelector", "spec.podSelector.matchLabels"),
        ("container twice", Spec(["containers": ["app", "app"]]), "DuplicateContainers", "spec.containers[1]"),
        ("ratio sampler without ratio", Spec(["sampling": ["sampler": "traceidratio"]]), "InvalidSpec", "spec.sampling.ratio"),
        ("bad endpoint", Spec(["export": ["otlp": ["endpoint": "ftp://collector"]]]), "InvalidSpec", "spec.export.otlp.endpoint"),
        ("a quoted port", Spec(["ports": [["port": "8080"]]]), "InvalidSpec", "spec.ports[0].port"),
        ("an unknown field", Spec(["portz": [8080]]), "InvalidSpec", "spec.portz"),
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
        ("adjacent ranges", Spec(["ports": [["port": 8000, "endPort": 8999], ["port": 9000]]])),
        ("design example", Spec([
            "podSelector": ["matchLabels": ["app": "checkout"]], "containers": ["app"],
            "ports": [["port": 8000, "endPort": 9000], ["port": 3000]], "executables": ["*envoy*"], "protocols": ["http", "tcp"],
            "sampling": ["sampler": "parentbased_traceidratio", "ratio": "0.25"],
            "exclude": ["pids": [4242], "executables": ["*healthcheck*"], "routes": ["/healthz", "/metrics"]],
            "export": ["otlp": ["endpoint": "http://otel-collector.observability:4318"]], "resourceAttributes": ["deployment.environment": "prod"],
        ])),
        ("every operator", Spec(["podSelector": ["matchExpressions": [
            ["key": "a", "operator": "In", "values": ["1"]], ["key": "b", "operator": "NotIn", "values": ["2"]],
            ["key": "c", "operator": "Exists"], ["key": "d", "operator": "DoesNotExist"],
        ]]])),
    ]

    @Test(arguments: accepted)
    func acceptsValidSpecs(_ name: String, _ spec: Spec) {
        if case .failure(let rejection) = PolicyValidation.validate(spec) { Issue.record("\(name): \(rejection)") }
    }

    /// The spec the API server sends, as JSON, becomes the same policy as the same spec in a
    /// policy file, through one decoder and no text in between.
    @Test func aSpecFromTheAPIServerAndTheSameSpecInAFileGiveTheSamePolicy() throws {
        let json = #"""
            {"apiVersion": "periscope.dev/v1alpha1", "kind": "InstrumentationPolicy", "metadata": {"name": "checkout", "namespace": "shop"},
             "spec": {"podSelector": {"matchLabels": {"app": "checkout"}}, "containers": ["app"],
                      "ports": [{"port": 8000, "endPort": 9000}, {"port": 3000}], "protocols": ["http"],
                      "sampling": {"sampler": "parentbased_traceidratio", "ratio": "0.25"},
                      "capture": {"payloadBytes": 1024, "keepQuery": true},
                      "export": {"otlp": {"endpoint": "http://collector:4318"}}, "resourceAttributes": {"team": "payments", "tier": 1}}}
            """#
        let object = try JSONDecoder().decode(InstrumentationPolicy.self, from: Data(json.utf8))
        let fromCluster = try object.spec.policy()
        let fromFile = try Policy.parse(yaml: """
            ports: [{port: 8000, endPort: 9000}, {port: 3000}]
            protocols: [http]
            sampling: {sampler: parentbased_traceidratio, ratio: "0.25"}
            capture: {payloadBytes: 1024, keepQuery: true}
            export: {otlp: {endpoint: "http://collector:4318"}}
            resourceAttributes: {team: payments, tier: "1"}
            """)
        #expect(fromCluster == fromFile)
        #expect(object.spec.podSelector == PodSelector(matchLabels: ["app": "checkout"]))
        #expect(object.spec.containers == ["app"])
        // Written back, the spec is what was read.
        let again = try JSONDecoder().decode(InstrumentationPolicy.self, from: JSONEncoder().encode(object))
        #expect(again.spec == object.spec)
    }

    @Test func aNodeInstrumentationCarriesThePolicyAsWrittenWithoutItsSelectors() throws {
        let spec = Spec(["podSelector": ["matchLabels": ["app": "web"]], "containers": ["app"], "ports": [["port": 3000]]])
        #expect(spec.policyDocument == ["ports": [["port": 3000]]])
        let settings = NodeInstrumentation.PolicySettings(namespace: "shop", name: "p", generation: 4, spec: spec.policyDocument)
        let decoded = try JSONDecoder().decode(NodeInstrumentation.PolicySettings.self, from: JSONEncoder().encode(settings))
        #expect(decoded == settings)
        #expect(decoded.key == "shop/p")
        let policy = try decoded.policy()
        #expect(policy.ports == PortSet([3000...3000]))
        #expect(policy.protocols == Set(TracedProtocol.allCases), "defaults are the decoder's, on both sides")
    }
}
