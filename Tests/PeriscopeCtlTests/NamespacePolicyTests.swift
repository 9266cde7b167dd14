import PeriscopeAPI
import PeriscopeCore
import Testing
@testable import PeriscopeCtl

@Suite struct NamespacePolicyTests {
    @Test(arguments: [
        ("8080", [NamespacePolicy.PortRange(port: 8080)]),
        ("8080,9000-9100", [.init(port: 8080), .init(port: 9000, endPort: 9100)]),
        ("1,65535", [.init(port: 1), .init(port: 65535)]),
        ("7000-7000", [.init(port: 7000)]),
    ])
    func parsesPortsAndRanges(text: String, expected: [NamespacePolicy.PortRange]) throws {
        #expect(try NamespacePolicy.parsePorts(text) == expected)
    }

    @Test(arguments: ["", "0", "65536", "80,", "a", "90-80", "1-2-3", "-5", "8080 9090"])
    func rejectsMalformedPortsWithTheUsageExitStatus(text: String) {
        #expect {
            try NamespacePolicy.parsePorts(text)
        } throws: { error in
            (error as? CtlError)?.code == .invalidArgument && (error as? CtlError)?.exitStatus == 64
        }
    }

    @Test func parsesSamplingAsRatioNameOrNameWithRatio() throws {
        #expect(try NamespacePolicy.parseSampling("0.25") == .init(sampler: "parentbased_traceidratio", ratio: "0.25"))
        #expect(try NamespacePolicy.parseSampling("always_on") == .init(sampler: "always_on"))
        #expect(try NamespacePolicy.parseSampling("traceidratio:0.5") == .init(sampler: "traceidratio", ratio: "0.5"))
        #expect(throws: CtlError.self) { try NamespacePolicy.parseSampling("1.5") }
    }

    @Test func refusesWhatTheControllerWouldRejectBeforeWriting() {
        #expect(throws: CtlError.self) { try NamespacePolicy(namespace: "shop", sampling: "no_such_sampler") }
        #expect(throws: CtlError.self) { try NamespacePolicy(namespace: "shop", ports: "80,80") }
    }

    @Test func selectsEveryPodOfTheNamespace() throws {
        let policy = try NamespacePolicy(namespace: "shop", ports: "8080").policy
        #expect(policy.metadata.name == NamespacePolicy.name)
        #expect(policy.metadata.namespace == "shop")
        #expect(policy.spec.podSelector == PodSelector())
        #expect(policy.spec.document["ports"] == [["port": 8080]])
        #expect(policy.spec.document["sampling"] == nil)
        let sampled = try NamespacePolicy(namespace: "shop", ports: "8000-9000", sampling: "0.25").policy
        #expect(sampled.spec.document == ["podSelector": [:], "ports": [["port": 8000, "endPort": 9000]], "sampling": ["sampler": "parentbased_traceidratio", "ratio": "0.25"]])
        #expect(try sampled.spec.policy().sampler == .parentBasedTraceIDRatio(0.25))
    }
}
