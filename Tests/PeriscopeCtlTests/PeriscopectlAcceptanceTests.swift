import Foundation
import PeriscopeAPI
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

    @Test func helpShowsExamplesForEveryCommand() throws {
        let cluster = try Cluster()
        for command in [[], ["instrument"], ["uninstrument"], ["status"]] {
            let help = try cluster.run("\(Cluster.binDirectory)/periscopectl", command + ["--help"])
            #expect(help.status == 0)
            #expect(help.output.contains("Example"), "\(command)")
        }
    }
}
