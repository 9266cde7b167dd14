import Foundation
import PeriscopeAPI
import PeriscopeCtl
import PeriscopeKube
import Testing

@Suite(.serialized) struct PeriscopectlAcceptanceTests {
    @Test func instrumentCreatesThenUpdatesTheNamespacePolicyAndUninstrumentRemovesIt() throws {
        let cluster = try Cluster()
        let created = try cluster.periscopectl("instrument", "namespace", "shop")
        #expect(created.status == 0, "\(created.error)")
        #expect(created.output.contains("namespace shop instrumented"))
        var stored = try #require(cluster.server.objects(.instrumentationPolicies)["shop/periscope-namespace"])
        #expect(stored["spec"]?["podSelector"] == .object([:]))
        #expect(stored["metadata"]?["generation"]?.intValue == 1)

        let updated = try cluster.periscopectl("instrument", "namespace", "shop", "--ports", "8080,9000-9100", "--sampling", "0.25")
        #expect(updated.status == 0, "\(updated.error)")
        stored = try #require(cluster.server.objects(.instrumentationPolicies)["shop/periscope-namespace"])
        #expect(stored["metadata"]?["generation"]?.intValue == 2)
        #expect(stored["spec"]?["sampling"]?["ratio"] == .string("0.25"))
        #expect(stored["spec"]?["ports"]?.arrayValue?.last?["endPort"]?.intValue == 9100)

        // kubectl sees what periscopectl wrote.
        let listed = try cluster.kubectl("get", "instrumentationpolicies", "-n", "shop", "-o", "name")
        #expect(listed.output.contains("periscope-namespace"), "\(listed.error)")

        let removed = try cluster.periscopectl("uninstrument", "namespace", "shop")
        #expect(removed.status == 0)
        #expect(cluster.server.objects(.instrumentationPolicies)["shop/periscope-namespace"] == nil)
        let again = try cluster.periscopectl("uninstrument", "namespace", "shop")
        #expect(again.status == 0)
        #expect(again.output.contains("was not instrumented"))
    }

    @Test func exitStatusesScriptsCanRelyOn() throws {
        let cluster = try Cluster()
        #expect(try cluster.periscopectl("instrument", "namespace", "nowhere").status == 4)
        #expect(try cluster.periscopectl("instrument", "namespace", "shop", "--ports", "0").status == 64)
        #expect(try cluster.periscopectl("instrument", "pods", "shop").status == 64)
        #expect(try cluster.periscopectl("status", environment: ["KUBECONFIG": "\(cluster.directory)/missing"]).status == 2)
        let unreachable = "\(cluster.directory)/unreachable"
        try Cluster.kubeconfig(server: "http://127.0.0.1:1").write(toFile: unreachable, atomically: true, encoding: .utf8)
        #expect(try cluster.periscopectl("status", "--kubeconfig", unreachable).status == 2)
        let forbidden = "\(cluster.directory)/forbidden"
        try Cluster.kubeconfig(server: cluster.proxy.url, certificateAuthority: cluster.proxy.caFile, token: "wrong").write(toFile: forbidden, atomically: true, encoding: .utf8)
        #expect(try cluster.periscopectl("status", "--kubeconfig", forbidden).status == 1)
    }

    @Test func statusListsPoliciesAndAgentsAndExitsThreeUntilApplied() throws {
        let cluster = try Cluster()
        let empty = try cluster.periscopectl("status")
        #expect(empty.status == 0, "\(empty.error)")
        #expect(empty.output.contains("POLICIES"))
        _ = try cluster.periscopectl("instrument", "namespace", "shop")
        let pending = try cluster.periscopectl("status")
        #expect(pending.status == 3)
        #expect(pending.output.contains("periscope-namespace"))
    }

    /// `--kubeconfig`, `--context` and `-n` work before the command as after it, as kubectl's do.
    @Test func globalFlagsGoBeforeOrAfterTheCommand() throws {
        let cluster = try Cluster(namespaces: ["default", "kube-system", "shop", "cart"])
        let other = "\(cluster.directory)/other"
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            clusters: [{name: test, cluster: {server: "\(cluster.proxy.url)", certificate-authority: \(cluster.proxy.caFile)}}, \
            {name: nowhere, cluster: {server: "http://127.0.0.1:1"}}]
            users: [{name: test, user: {token: test-token}}]
            contexts: [{name: test, context: {cluster: test, user: test}}, {name: nowhere, context: {cluster: nowhere, user: test}}]
            current-context: nowhere
            """
        try kubeconfig.write(toFile: other, atomically: true, encoding: .utf8)
        // The current context is unreachable: only a --context that reaches the test cluster works.
        #expect(try cluster.periscopectl("--kubeconfig", other, "status").status == 2)
        let before = try cluster.periscopectl("--kubeconfig", other, "--context", "test", "instrument", "namespace", "shop")
        #expect(before.status == 0, "\(before.error)")
        let equals = try cluster.periscopectl("--kubeconfig=\(other)", "--context=test", "-n", "cart", "instrument", "namespace")
        #expect(equals.status == 0, "\(equals.error)")
        #expect(equals.output.contains("namespace cart instrumented"))
        let after = try cluster.periscopectl("status", "--kubeconfig", other, "--context", "test")
        #expect(after.output.contains("shop") && after.output.contains("cart"), "\(after.output)\(after.error)")
        let filtered = try cluster.periscopectl("-n", "cart", "--kubeconfig", other, "--context", "test", "status")
        #expect(filtered.output.contains("cart") && !filtered.output.contains("shop"), "\(filtered.output)\(filtered.error)")
        let removed = try cluster.periscopectl("--context", "test", "--kubeconfig", other, "uninstrument", "-n", "cart", "namespace")
        #expect(removed.output.contains("namespace cart uninstrumented"), "\(removed.error)")
        #expect(try cluster.periscopectl("-n", "cart", "instrument", "namespace", "shop").status == 64)
        #expect(try cluster.periscopectl("instrument", "namespace").status == 64)
    }

    @Test func versionPrintsTheClientsAndTheServers() throws {
        let cluster = try Cluster()
        let both = try cluster.periscopectl("version")
        #expect(both.status == 0, "\(both.error)")
        #expect(both.output == "Client Version: \(Periscopectl.version)\nServer Version: v1.32.0-periscope-test\n")
        let client = try cluster.periscopectl("version", "--client", environment: ["KUBECONFIG": "\(cluster.directory)/missing"])
        #expect(client.status == 0)
        #expect(client.output == "Client Version: \(Periscopectl.version)\n")
        #expect(try cluster.periscopectl("version", environment: ["KUBECONFIG": "\(cluster.directory)/missing"]).status == 2)
    }

    @Test func helpShowsExamplesForEveryCommand() throws {
        let cluster = try Cluster()
        for command in [[], ["instrument"], ["uninstrument"], ["status"], ["version"]] {
            let help = try cluster.run("\(Cluster.binDirectory)/periscopectl", command + ["--help"])
            #expect(help.status == 0)
            #expect(help.output.contains("Example"), "\(command)")
        }
    }
}
