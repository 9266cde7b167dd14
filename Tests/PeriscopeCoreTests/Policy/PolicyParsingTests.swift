import Testing
@testable import PeriscopeCore

@Suite struct PolicyParsingTests {
    func parseError(_ yaml: String, environment: Policy.Environment = .standalone) -> PolicyError? {
        do {
            _ = try Policy.parse(yaml: yaml, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ["", "   \n", "# only a comment\n", "---\n", "~", "{}"])
    func emptyDocumentIsTheDefaultPolicy(yaml: String) throws {
        let policy = try Policy.parse(yaml: yaml)
        #expect(policy == Policy())
        #expect(policy.ports.isEmpty)
        #expect(policy.tracesPort(1) && policy.tracesPort(65535))
        #expect(policy.protocols == Set(TracedProtocol.allCases))
        #expect(policy.sampler == .parentBasedAlwaysOn)
        #expect(policy.capture == Policy.Capture(payloadBytes: 2048, keepQuery: false, keepQueryValues: false))
        #expect(policy.export.otlp == nil)
    }

    @Test func readsEveryFieldOfTheDesignExample() throws {
        let policy = try Policy.parse(yaml: """
            ports: [{port: 8000, endPort: 9000}, {port: 3000}]
            executables: ["*envoy*"]
            pids: [17, 4000]
            protocols: [http, tcp]
            sampling: {sampler: parentbased_traceidratio, ratio: "0.25"}
            exclude: {pids: [4242], executables: ["*healthcheck*"], routes: ["/healthz", "/metrics"]}
            routes: ["/users/{id}", "/static/*"]
            capture: {payloadBytes: 512, keepQuery: true}
            export: {otlp: {endpoint: "http://otel-collector.observability:4318"}}
            resourceAttributes: {deployment.environment: prod, replicas: 3}
            """)
        #expect(policy.ports.ranges == [3000...3000, 8000...9000])
        #expect(policy.executables.map(\.pattern) == ["*envoy*"])
        #expect(policy.pids == [17, 4000])
        #expect(policy.protocols == [.http, .tcp])
        #expect(policy.sampler == .parentBasedTraceIDRatio(0.25))
        #expect(policy.exclude.pids == [4242])
        #expect(policy.exclude.executables.map(\.pattern) == ["*healthcheck*"])
        #expect(policy.exclude.routes.map(\.pattern) == ["/healthz", "/metrics"])
        #expect(policy.routes.map(\.pattern) == ["/users/{id}", "/static/*"])
        #expect(policy.capture == Policy.Capture(payloadBytes: 512, keepQuery: true))
        #expect(policy.export.otlp?.endpoint == "http://otel-collector.observability:4318")
        #expect(policy.resourceAttributes == ["deployment.environment": "prod", "replicas": "3"])
    }

    @Test func readsTheSpecOfAFullResource() throws {
        let policy = try Policy.parse(yaml: """
            apiVersion: periscope.dev/v1alpha1
            kind: InstrumentationPolicy
            metadata: {name: checkout, namespace: shop, labels: {team: payments}}
            spec:
              ports: [8080]
              protocols: [http]
            status: {observedGeneration: 3}
            """)
        #expect(policy.ports.ranges == [8080...8080])
        #expect(policy.protocols == [.http])
    }

    @Test func resourceWithoutSpecIsTheDefaultPolicy() throws {
        let policy = try Policy.parse(yaml: "apiVersion: periscope.dev/v1alpha1\nkind: InstrumentationPolicy\n")
        #expect(policy == Policy())
    }

    @Test func jsonTextIsAccepted() throws {
        let policy = try Policy.parse(yaml: #"{"spec": {"ports": ["8000-8002"], "pids": [1]}}"#)
        #expect(policy.ports.ranges == [8000...8002])
        #expect(policy.pids == [1])
    }

    @Test(arguments: [
        ("apiVersion: periscope.dev/v1\nspec: {}", "apiVersion"),
        ("kind: NetworkPolicy\nspec: {}", "kind"),
    ])
    func otherResourcesAreRejected(yaml: String, field: String) {
        let error = parseError(yaml)
        #expect(error?.code == .unsupportedResource)
        #expect(error?.field == field)
    }

    @Test(arguments: [
        ("ports: [8080]", [8080...8080]),
        ("ports: [\"8080\"]", [8080...8080]),
        ("ports: [\"8000-9000\"]", [8000...9000]),
        ("ports: [' 8000 - 9000 ']", [8000...9000]),
        ("ports: [{port: 3000}]", [3000...3000]),
        ("ports: [{port: 1, endPort: 65535}]", [1...65535]),
        ("ports: [80, 81, 82, \"83-90\", 443]", [80...90, 443...443]),
        ("ports: []", []),
        ("ports:", []),
    ] as [(String, [ClosedRange<UInt16>])])
    func readsPortsInEveryForm(yaml: String, ranges: [ClosedRange<UInt16>]) throws {
        #expect(try Policy.parse(yaml: yaml).ports.ranges == ranges)
    }

    @Test func endPortBelowPortNamesTheFieldAndTheBound() {
        let error = parseError("ports:\n  - 3000\n  - {port: 8000, endPort: 7000}\n")
        #expect(error?.code == .invalidValue)
        #expect(error?.field == "spec.ports[1].endPort")
        #expect(error?.value == "7000")
        #expect(error?.line == 3)
        #expect(error?.description
            == "spec.ports[1].endPort: 7000 is not allowed; expected an integer from 1 to 65535, not below port (8000)")
    }

    @Test func endPortAboveTheLastPortIsRejected() {
        let error = parseError("ports: [80, {port: 8000, endPort: 70000}]")
        #expect(error?.description
            == "spec.ports[1].endPort: 70000 is not allowed; expected an integer from 1 to 65535, not below port (8000)")
    }

    @Test(arguments: [
        ("ports: [0]", "spec.ports[0]"),
        ("ports: [65536]", "spec.ports[0]"),
        ("ports: [-80]", "spec.ports[0]"),
        ("ports: [80.5]", "spec.ports[0]"),
        ("ports: [8080.0]", "spec.ports[0]"),
        ("ports: [99999999999999999999999999]", "spec.ports[0]"),
        ("ports: [\"9000-8000\"]", "spec.ports[0]"),
        ("ports: [\"80-\"]", "spec.ports[0]"),
        ("ports: [\"-80\"]", "spec.ports[0]"),
        ("ports: [\"1-2-3\"]", "spec.ports[0]"),
        ("ports: [\"http\"]", "spec.ports[0]"),
        ("ports: [\"\"]", "spec.ports[0]"),
        ("ports: [~]", "spec.ports[0]"),
        ("ports: [[80]]", "spec.ports[0]"),
        ("ports: [true]", "spec.ports[0]"),
        ("ports: 8080", "spec.ports"),
        ("ports: {port: 80}", "spec.ports"),
        ("ports: [{port: \"80\"}]", "spec.ports[0].port"),
        ("ports: [{port: 0x50}]", "spec.ports[0].port"),
        ("ports: [{port: 80, endPort: ~}]", "spec.ports[0].endPort"),
    ])
    func rejectsPortsOutsideTheAcceptedForms(yaml: String, field: String) {
        let error = parseError(yaml)
        #expect(error?.code == .invalidValue)
        #expect(error?.field == field)
    }

    @Test func portMapWithoutPortIsMissingAField() {
        let error = parseError("ports: [{endPort: 9000}]")
        #expect(error?.code == .missingField)
        #expect(error?.field == "spec.ports[0].port")
    }

    @Test(arguments: [
        ("prots: [80]", "spec.prots"),
        ("ports: [{port: 80, end: 90}]", "spec.ports[0].end"),
        ("sampling: {sampler: always_on, ratoi: 1}", "spec.sampling.ratoi"),
        ("exclude: {pid: [1]}", "spec.exclude.pid"),
        ("capture: {payload: 100}", "spec.capture.payload"),
        ("export: {otlp: {endpoint: \"http://a:1\", headers: {}}}", "spec.export.otlp.headers"),
        ("export: {jaeger: {}}", "spec.export.jaeger"),
        ("spec: {}\nextra: 1", "extra"),
        ("apiVersion: periscope.dev/v1alpha1\nspec: {port: [1]}", "spec.port"),
        ("<<: {ports: [1]}", "spec.<<"),
    ])
    func unknownFieldsAreErrorsNotIgnored(yaml: String, field: String) {
        let error = parseError(yaml)
        #expect(error?.code == .unknownField)
        #expect(error?.field == field)
    }

    @Test func unknownFieldErrorListsTheFieldsThatExist() {
        let error = parseError("sampling:\n  sampler: always_on\n  ratoi: 1\n")
        #expect(error?.line == 3)
        #expect(error?.description == "spec.sampling.ratoi: unknown field; expected one of sampler, ratio")
    }

    @Test(arguments: ["podSelector: {matchLabels: {app: x}}", "containers: [app]"])
    func kubernetesSelectorsAreRejectedInAStandaloneFile(yaml: String) throws {
        let error = parseError(yaml)
        #expect(error?.code == .clusterOnlyField)
        #expect(error?.description.contains("only applies to an InstrumentationPolicy in a cluster") == true)
        #expect(try Policy.parse(yaml: yaml, environment: .cluster) == Policy())
    }

    @Test func kubernetesSelectorsInsideAResourceNameTheSpecPath() {
        let error = parseError("kind: InstrumentationPolicy\nspec:\n  podSelector: {}\n")
        #expect(error?.field == "spec.podSelector")
        #expect(error?.line == 3)
    }

    @Test(arguments: [
        ("sampling: {sampler: always_on}", Sampler.alwaysOn),
        ("sampling: {sampler: always_off}", .alwaysOff),
        ("sampling: {sampler: traceidratio, ratio: 0.5}", .traceIDRatio(0.5)),
        ("sampling: {sampler: traceidratio, ratio: '1'}", .traceIDRatio(1)),
        ("sampling: {sampler: traceidratio, ratio: 0}", .traceIDRatio(0)),
        ("sampling: {sampler: parentbased_always_on}", .parentBasedAlwaysOn),
        ("sampling: {sampler: parentbased_always_off}", .parentBasedAlwaysOff),
        ("sampling: {sampler: parentbased_traceidratio, ratio: \"0.25\"}", .parentBasedTraceIDRatio(0.25)),
        ("sampling: {}", .parentBasedAlwaysOn),
    ])
    func readsEverySampler(yaml: String, sampler: Sampler) throws {
        #expect(try Policy.parse(yaml: yaml).sampler == sampler)
    }

    @Test(arguments: [
        ("sampling: {sampler: traceidratio, ratio: 1.5}", PolicyError.Code.invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: traceidratio, ratio: -0.1}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: traceidratio, ratio: .nan}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: traceidratio, ratio: nan}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: traceidratio, ratio: half}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: traceidratio, ratio: [1]}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: traceidratio}", .missingField, "spec.sampling.ratio"),
        ("sampling: {sampler: parentbased_traceidratio, ratio: ~}", .missingField, "spec.sampling.ratio"),
        ("sampling: {sampler: always_on, ratio: 0.5}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {ratio: 0.5}", .invalidValue, "spec.sampling.ratio"),
        ("sampling: {sampler: AlwaysOn}", .invalidValue, "spec.sampling.sampler"),
        ("sampling: {sampler: ~}", .invalidValue, "spec.sampling.sampler"),
        ("sampling: always_on", .invalidValue, "spec.sampling"),
    ])
    func rejectsSamplingThatCannotBeFollowed(yaml: String, code: PolicyError.Code, field: String) {
        let error = parseError(yaml)
        #expect(error?.code == code)
        #expect(error?.field == field)
    }

    @Test func missingRatioSaysWhichSamplerNeedsIt() {
        #expect(parseError("sampling: {sampler: traceidratio}")?.description
            == "spec.sampling.ratio: required but missing; expected a number from 0 to 1, such as \"0.25\" (required by traceidratio)")
    }

    @Test(arguments: [
        ("protocols: [http]", Set([TracedProtocol.http])),
        ("protocols: [tcp]", [.tcp]),
        ("protocols: [tcp, http, tcp]", [.tcp, .http]),
        ("protocols: []", Set(TracedProtocol.allCases)),
        ("protocols: [postgresql, mysql, redis]", [.postgresql, .mysql, .redis]),
        ("protocols: [grpc]", [.grpc]),
        ("protocols: [grpc, http]", [.http, .grpc]),
    ] as [(String, Set<TracedProtocol>)])
    func readsProtocols(yaml: String, protocols: Set<TracedProtocol>) throws {
        #expect(try Policy.parse(yaml: yaml).protocols == protocols)
    }

    @Test(arguments: ["protocols: [thrift]", "protocols: [HTTP]", "protocols: http", "protocols: [~]", "protocols: [{http: 1}]"])
    func rejectsUnknownProtocols(yaml: String) {
        #expect(parseError(yaml)?.code == .invalidValue)
    }

    @Test(arguments: [
        ("capture: {payloadBytes: 64}", 64),
        ("capture: {payloadBytes: 8192}", 8192),
        ("capture: {keepQuery: false}", 2048),
    ])
    func readsPayloadBytes(yaml: String, bytes: Int) throws {
        #expect(try Policy.parse(yaml: yaml).capture.payloadBytes == bytes)
    }

    @Test(arguments: [
        "capture: {payloadBytes: 63}", "capture: {payloadBytes: 8193}", "capture: {payloadBytes: 1e3}",
        "capture: {payloadBytes: \"512\"}", "capture: {payloadBytes: 512.0}", "capture: {payloadBytes: -1}",
        "capture: {keepQuery: maybe}", "capture: {keepQuery: \"true\"}", "capture: {keepQuery: 1}",
        "capture: {keepQueryValues: yes please}",
        "capture: 512",
    ])
    func rejectsCaptureSettingsOutOfRange(yaml: String) {
        let error = parseError(yaml)
        #expect(error?.code == .invalidValue)
        #expect(error?.field.hasPrefix("spec.capture") == true)
    }

    @Test func keepQueryValuesIsOffUnlessAsked() throws {
        #expect(try Policy.parse(yaml: "capture: {payloadBytes: 512}").capture.keepQueryValues == false)
        #expect(try Policy.parse(yaml: "capture: {keepQueryValues: true}").capture.keepQueryValues)
    }

    @Test func payloadBytesErrorStatesTheRange() {
        #expect(parseError("capture: {payloadBytes: 16384}")?.description
            == "spec.capture.payloadBytes: 16384 is not allowed; expected an integer from 64 to 8192")
    }

    @Test(arguments: [
        "http://otel-collector.observability:4318", "https://collector.example.com", "http://127.0.0.1:4318/",
        "http://[::1]:4318", "HTTPS://collector:443/otlp", "http://localhost",
    ])
    func acceptsHTTPExportEndpoints(endpoint: String) throws {
        let policy = try Policy.parse(yaml: "export: {otlp: {endpoint: \"\(endpoint)\"}}")
        #expect(policy.export.otlp?.endpoint == endpoint)
    }

    @Test(arguments: [
        "otel:4318", "grpc://otel:4317", "http://", "http://:4318", "http://otel:0", "http://otel:65536",
        "http://otel:", "http://otel:43a8", "http://otel:+43", "http://user@otel:4318", "http://ot el:4318",
        "http://[::1", "http://[::1]x", "http://a:1:2", "",
    ])
    func rejectsEndpointsTheExporterCannotUse(endpoint: String) {
        let error = parseError("export: {otlp: {endpoint: \"\(endpoint)\"}}")
        #expect(error?.code == .invalidValue)
        #expect(error?.field == "spec.export.otlp.endpoint")
    }

    @Test func otlpWithoutEndpointIsMissingAField() {
        let error = parseError("export: {otlp: {}}")
        #expect(error?.code == .missingField)
        #expect(error?.field == "spec.export.otlp.endpoint")
    }

    @Test(arguments: [
        ("executables: [\"[abc\"]", "spec.executables[0]"),
        ("executables: [\"\"]", "spec.executables[0]"),
        ("executables: [~]", "spec.executables[0]"),
        ("executables: \"*nginx*\"", "spec.executables"),
        ("exclude: {executables: [\"a[\"]}", "spec.exclude.executables[0]"),
        ("routes: [users]", "spec.routes[0]"),
        ("routes: [\"/a/{id\"]", "spec.routes[0]"),
        ("exclude: {routes: [\"/a/*/b\"]}", "spec.exclude.routes[0]"),
        ("pids: [0]", "spec.pids[0]"),
        ("pids: [2147483648]", "spec.pids[0]"),
        ("pids: [\"12\"]", "spec.pids[0]"),
        ("exclude: {pids: [-1]}", "spec.exclude.pids[0]"),
        ("resourceAttributes: [a]", "spec.resourceAttributes"),
        ("resourceAttributes: {a: {b: c}}", "spec.resourceAttributes.a"),
        ("resourceAttributes: {a: ~}", "spec.resourceAttributes.a"),
    ])
    func rejectsInvalidListsAndPatternsWithTheirPath(yaml: String, field: String) {
        let error = parseError(yaml)
        #expect(error?.code == .invalidValue)
        #expect(error?.field == field)
    }

    @Test func invalidGlobErrorSaysWhatIsWrong() {
        #expect(parseError("executables: [\"*envoy*\", \"[abc\"]")?.description
            == "spec.executables[1]: \"[abc\" is not allowed; expected a glob using *, ?, [...] and \\ escapes (a [ is not closed by ])")
    }

    @Test func unquotedGlobStartingWithStarIsAYAMLErrorWithALine() {
        let error = parseError("ports: [80]\nexecutables: [*envoy*]\n")
        #expect(error?.code == .invalidYAML)
        #expect(error?.line == 2)
    }

    @Test(arguments: [
        "ports: [80", "ports: {port: 80", "a: b: c", "\t- tab", "key: 'unterminated", "ports: [80]\nports: [81]",
        "---\nports: [1]\n---\nports: [2]\n", "x: *nothing",
    ])
    func yamlSyntaxErrorsBecomePolicyErrors(yaml: String) {
        let error = parseError(yaml)
        #expect(error?.code == .invalidYAML)
        #expect(error?.description.contains("not valid YAML") == true)
    }

    @Test func yamlSyntaxErrorCarriesItsPosition() {
        let error = parseError("ports: [80]\nsampling: {sampler: always_on\n")
        #expect(error?.code == .invalidYAML)
        #expect(error?.line != nil)
        #expect(error?.description.hasPrefix("line ") == true)
    }

    @Test func duplicateKeysAreRejected() {
        let error = parseError("ports: [80]\nroutes: []\nports: [81]\n")
        #expect(error?.code == .invalidYAML)
        #expect(error?.description.contains("ports") == true)
    }

    @Test(arguments: ["just a string", "42", "[1, 2]", "- ports: [80]", "true"])
    func nonMappingDocumentsAreRejected(yaml: String) {
        let error = parseError(yaml)
        #expect(error?.code == .invalidValue)
        #expect(error?.field == "")
    }

    @Test func nullFieldsMeanTheirDefault() throws {
        let policy = try Policy.parse(yaml: """
            ports:
            executables: ~
            sampling: null
            exclude: {pids: ~, routes: }
            capture: {payloadBytes: ~}
            export: {otlp: ~}
            """)
        #expect(policy == Policy())
    }
}

@Suite struct PolicyPropagationTests {
    @Test func propagationIsOnUnlessAPolicySaysNone() throws {
        #expect(try Policy.parse(yaml: "ports: [8080]").propagation == .auto)
        #expect(try Policy.parse(yaml: "propagation: none").propagation == .none)
        #expect(try Policy.parse(yaml: "propagation: auto").propagation == .auto)
    }

    @Test(arguments: ["propagation: off", "propagation: [none]", "propagation: 1"])
    func anUnknownPropagationIsRejectedNamingTheChoices(_ yaml: String) {
        #expect {
            try Policy.parse(yaml: yaml)
        } throws: { error in
            "\(error)".contains("spec.propagation") && "\(error)".contains("auto, none")
        }
    }

    @Test func theMergedPolicyPropagatesUnlessEveryPolicySaysNone() throws {
        let on = Policy(pids: [1])
        let off = Policy(pids: [2], propagation: .none)
        #expect(PolicySet([on, off]).merged.propagation == .auto)
        #expect(PolicySet([off, off]).merged.propagation == .none)
    }
}
