import Foundation
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

/// The real kubectl (Debian's /usr/bin/kubectl) against the test API server.
@Suite(.serialized)
struct KubectlAcceptanceTests {
    static let policyYAML = """
        apiVersion: periscope.dev/v1alpha1
        kind: InstrumentationPolicy
        metadata:
          name: kubectl-demo
          namespace: default
          labels: {app: checkout}
        spec:
          podSelector: {matchLabels: {app: checkout}}
          ports: [{port: 8000, endPort: 9000}, {port: 3000}]
          protocols: [http, tcp]
          sampling: {sampler: parentbased_traceidratio, ratio: "0.25"}
          exclude: {routes: [/healthz]}
        """

    @Test func applyGetAndDeleteAnInstrumentationPolicyClientAndServerSide() throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let kubectl = try Kubectl(server: server)
        defer { kubectl.proxy.stop() }
        let file = "\(kubectl.directory)/policy.yaml"
        try Self.policyYAML.write(toFile: file, atomically: true, encoding: .utf8)

        let created = try kubectl.run(["apply", "-f", file])
        #expect(created.status == 0, "apply: \(created.error)")
        #expect(created.output.contains("instrumentationpolicy.periscope.dev/kubectl-demo created"), "\(created.output)")

        let listed = try kubectl.run(["get", "instrumentationpolicies"])
        #expect(listed.status == 0, "get: \(listed.error)")
        #expect(listed.output.contains("kubectl-demo"))
        #expect(listed.output.contains("PROTOCOLS"), "printer columns: \(listed.output)")

        let short = try kubectl.run(["get", "ipol", "kubectl-demo", "-o", "jsonpath={.spec.ports[0].endPort}"])
        #expect(short.status == 0, "get ipol: \(short.error)")
        #expect(short.output == "9000")

        let unchanged = try kubectl.run(["apply", "-f", file])
        #expect(unchanged.status == 0, "re-apply: \(unchanged.error)")
        #expect(unchanged.output.contains("unchanged"), "\(unchanged.output)")

        // The first server-side apply takes the fields over from the client-side apply manager
        // (kubectl rewrites managedFields); after that a change applies without conflicts.
        let migrated = try kubectl.run(["apply", "--server-side", "-f", file])
        #expect(migrated.status == 0, "apply --server-side (same content): \(migrated.error)")
        try Self.policyYAML.replacingOccurrences(of: "port: 3000", with: "port: 3001").write(toFile: file, atomically: true, encoding: .utf8)
        let serverSide = try kubectl.run(["apply", "--server-side", "-f", file])
        #expect(serverSide.status == 0, "apply --server-side: \(serverSide.error)")
        #expect(serverSide.output.contains("serverside-applied"), "\(serverSide.output)")
        let stored = server.objects(.instrumentationPolicies)["default/kubectl-demo"]
        #expect(stored?.value(atPath: "spec.ports")?.arrayValue?.last?["port"] == .int(3001))
        #expect(stored?.value(atPath: "metadata.generation") == .int(2))
        let managers = (stored?.value(atPath: "metadata.managedFields")?.arrayValue ?? []).compactMap { $0["manager"]?.stringValue }
        #expect(managers.contains("kubectl"), "\(managers)")

        try Self.policyYAML.replacingOccurrences(of: "port: 3000", with: "port: 70000")
            .replacingOccurrences(of: "kubectl-demo", with: "bad").write(toFile: file, atomically: true, encoding: .utf8)
        let rejected = try kubectl.run(["apply", "-f", file])
        #expect(rejected.status != 0)
        #expect(rejected.error.contains("spec.ports.port"), "\(rejected.error)")

        let deleted = try kubectl.run(["delete", "instrumentationpolicy", "kubectl-demo"])
        #expect(deleted.status == 0, "delete: \(deleted.error)")
        #expect(deleted.output.contains("deleted"))
        #expect(server.objects(.instrumentationPolicies).isEmpty)
    }

    @Test func getPodsByNodeWithAFieldSelector() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = Fixtures.client(server)
        for (name, node) in [("a-1", "node-a"), ("a-2", "node-a"), ("b-1", "node-b")] {
            let pod = DynamicObject(
                type: .pods, metadata: ObjectMeta(name: name, namespace: "default"),
                fields: ["spec": ["nodeName": .string(node), "containers": [["name": "app", "image": "example/app:1"]]]])
            _ = try await client.create(pod, .pods)
        }
        let kubectl = try Kubectl(server: server)
        defer { kubectl.proxy.stop() }
        let result = try kubectl.run(["get", "pods", "--field-selector", "spec.nodeName=node-a", "-o", "name"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.split(separator: "\n").sorted() == ["pod/a-1", "pod/a-2"])
        let table = try kubectl.run(["get", "pods", "-A", "--field-selector", "spec.nodeName=node-b"])
        #expect(table.status == 0, "\(table.error)")
        #expect(table.output.contains("b-1") && !table.output.contains("a-1"), "\(table.output)")
    }
}
