import Foundation
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

@Suite struct ManifestTests {
    static let directory = "\(Cluster.packageRoot)/manifests"

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func documents() throws -> [(file: String, object: [String: Any])] {
        try files.flatMap { file in
            let text = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
            return try JSONValue.untypedDocuments(yaml: text).compactMap { $0 as? [String: Any] }.map { (file, $0) }
        }
    }

    @Test func noManifestRunsAPrivilegedContainer() throws {
        #expect(!Self.files.isEmpty)
        for file in Self.files {
            let text = try String(contentsOfFile: "\(Self.directory)/\(file)", encoding: .utf8)
            #expect(!text.contains("privileged: true"), "\(file)")
        }
    }

    @Test func installsNamespaceCRDsAccountsRolesControllerAndAgent() throws {
        let kinds = Set(try Self.documents().map { "\($0.object["kind"] ?? "")/\(($0.object["metadata"] as? [String: Any])?["name"] ?? "")" })
        for expected in [
            "Namespace/periscope-system", "CustomResourceDefinition/instrumentationpolicies.periscope.dev",
            "CustomResourceDefinition/nodeinstrumentations.periscope.dev", "ServiceAccount/periscope-agent",
            "ServiceAccount/periscope-controller", "ClusterRole/periscope-agent", "ClusterRole/periscope-controller",
            "Deployment/periscope-controller", "DaemonSet/periscope-agent",
        ] {
            #expect(kinds.contains(expected), "\(expected)")
        }
    }

    @Test func agentIsHostPIDWithNamedCapabilitiesAndOnlyTracefsFromTheHost() throws {
        let daemonSet = try #require(Self.documents().first { $0.object["kind"] as? String == "DaemonSet" }?.object)
        let pod = try #require(((daemonSet["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["hostPID"] as? Bool == true)
        #expect(pod["hostNetwork"] == nil)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["privileged"] == nil)
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        let capabilities = try #require(security["capabilities"] as? [String: Any])
        #expect(capabilities["drop"] as? [String] == ["ALL"])
        #expect(Set(capabilities["add"] as? [String] ?? []).isSubset(of: ["BPF", "PERFMON", "NET_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH", "SYS_ADMIN"]))
        let hostPaths = (pod["volumes"] as? [[String: Any]] ?? []).compactMap { ($0["hostPath"] as? [String: Any])?["path"] as? String }
        #expect(hostPaths == ["/sys/kernel/tracing", "/sys/fs/cgroup"])
        let env = container["env"] as? [[String: Any]] ?? []
        #expect(env.contains { $0["name"] as? String == "NODE_NAME" })
    }

    @Test func controllerRunsTwoNonRootReplicasWithProbesAndLimits() throws {
        let deployment = try #require(Self.documents().first { $0.object["kind"] as? String == "Deployment" }?.object)
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 2)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(container["livenessProbe"] != nil && container["readinessProbe"] != nil)
        let resources = try #require(container["resources"] as? [String: Any])
        #expect(resources["requests"] != nil && resources["limits"] != nil)
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["runAsNonRoot"] as? Bool == true)
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
    }

    @Test func manifestCRDsAreTheOnesInCrds() throws {
        for name in ["instrumentationpolicy", "nodeinstrumentation"] {
            let manifest = try String(contentsOfFile: "\(Self.directory)/10-crd-\(name).yaml", encoding: .utf8)
            let crd = try String(contentsOfFile: "\(Cluster.packageRoot)/crds/\(name).yaml", encoding: .utf8)
            #expect(manifest == crd)
        }
    }

    /// `kubectl apply --dry-run=client -f manifests/` with no cluster behind it: kubectl still needs
    /// discovery to map kinds, which the test API server answers; nothing is written.
    @Test func kubectlClientDryRunAcceptsEveryManifest() throws {
        let cluster = try Cluster(crds: false)
        let result = try cluster.kubectl("apply", "--dry-run=client", "-f", Self.directory)
        #expect(result.status == 0, "\(result.output)\n\(result.error)")
        #expect(result.output.contains("daemonset.apps/periscope-agent created (dry run)"), "\(result.output)")
        #expect(!cluster.server.requests.contains { !$0.hasPrefix("GET") }, "\(cluster.server.requests.filter { !$0.hasPrefix("GET") })")
    }

    @Test func containerfilePerImage() {
        for image in ["periscope-agent", "periscope-controller"] {
            #expect(FileManager.default.fileExists(atPath: "\(Cluster.packageRoot)/images/\(image)/Containerfile"), "\(image)")
        }
    }
}
