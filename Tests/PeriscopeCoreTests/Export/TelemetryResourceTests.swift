import Testing
@testable import PeriscopeCore

@Suite struct TelemetryResourceTests {
    @Test(arguments: [
        ("checkout", ["service.name": "policy-name"], "checkout"),
        (nil, ["service.name": "policy-name"], "policy-name"),
        (nil, [:], "nginx"),
        ("  ", [:], "nginx"),
        ("bad\u{1b}[31m", [:], "nginx"),
        (String(repeating: "x", count: 300), [:], "nginx"),
    ] as [(String?, [String: String], String)])
    func serviceNameComesFromTheProcessThenThePolicyThenTheExecutable(env: String?, extra: [String: String], expected: String) {
        let resource = TelemetryResource.process(pid: 1, executable: "/usr/sbin/nginx", environmentServiceName: env, hostName: "h", extra: extra)
        #expect(resource.serviceName == expected)
    }

    @Test func policyAttributesDoNotReplaceWhatTheAgentKnows() {
        let resource = TelemetryResource.process(
            pid: 7, executable: "/bin/app", environmentServiceName: nil, hostName: "node", extra: ["process.pid": "1", "team": "a"])
        #expect(resource.attributes.filter { $0.key == "process.pid" } == [Attribute("process.pid", .int(7))])
        #expect(resource.attributes.contains(Attribute("team", .string("a"))))
        #expect(resource.attributes.contains(Attribute("host.name", .string("node"))))
    }

    @Test func readsOneVariableFromHostileEnviron() {
        let environ = Array("PATH=/bin\0OTEL_SERVICE_NAME=cart\0OTEL_SERVICE_NAME=second\0".utf8)
        #expect(ProcessEnvironment.value(of: "OTEL_SERVICE_NAME", in: environ) == "cart")
        #expect(ProcessEnvironment.value(of: "OTEL_SERVICE", in: environ) == nil)
        #expect(ProcessEnvironment.value(of: "OTEL_SERVICE_NAME", in: Array("OTEL_SERVICE_NAME=\u{ff}".utf8) + [0xff]) == nil)
        #expect(ProcessEnvironment.value(of: "X", in: [UInt8]()) == nil)
        #expect(ProcessEnvironment.value(of: "X", in: [0, 0, 0]) == nil)
        #expect(ProcessEnvironment.value(of: "X", in: Array("X=".utf8)) == "")
    }
}
