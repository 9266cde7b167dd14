import Foundation
import Logging
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

struct KubeconfigTests {
    static let first = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev
          cluster: {server: "https://dev.example:6443", certificate-authority: certs/ca.crt}
        users:
        - name: alice
          user: {token: alice-token}
        contexts:
        - name: dev
          context: {cluster: dev, user: alice, namespace: team-a}
        """
    static let second = """
        apiVersion: v1
        kind: Config
        current-context: prod
        clusters:
        - name: dev
          cluster: {server: "https://ignored.example"}
        - name: prod
          cluster: {server: "https://prod.example/", certificate-authority-data: "\(Data("PEM".utf8).base64EncodedString())", insecure-skip-tls-verify: true}
        users:
        - name: bob
          user: {client-certificate-data: "\(Data("CERT".utf8).base64EncodedString())", client-key: /keys/bob.key}
        - name: carol
          user: {tokenFile: carol.token}
        contexts:
        - name: prod
          context: {cluster: prod, user: bob}
        - name: files
          context: {cluster: dev, user: carol}
        """

    @Test func mergesLikeKubectlFirstDefinitionAndFirstCurrentContextWin() throws {
        let merged = Kubeconfig.merged([
            try Kubeconfig(yaml: Self.first, directory: "/etc/kube"), try Kubeconfig(yaml: Self.second, directory: "/home/me/.kube"),
        ])
        #expect(merged.currentContext == "dev")
        #expect(merged.clusters["dev"]?.server == "https://dev.example:6443")
        #expect(merged.clusters.keys.sorted() == ["dev", "prod"])
        let current = try merged.configuration()
        #expect(current.server == "https://dev.example:6443")
        #expect(current.certificateAuthority == .file("/etc/kube/certs/ca.crt"))
        #expect(current.credentials == .token("alice-token"))
        #expect(current.namespace == "team-a")
    }

    @Test(arguments: [
        ("prod", "https://prod.example", KubeClientConfiguration.Credentials.none, true),
        ("files", "https://dev.example:6443", .tokenFile("/home/me/.kube/carol.token"), false),
    ])
    func resolvesNamedContexts(context: String, server: String, credentials: KubeClientConfiguration.Credentials, insecure: Bool) throws {
        let merged = Kubeconfig.merged([
            try Kubeconfig(yaml: Self.first, directory: "/etc/kube"), try Kubeconfig(yaml: Self.second, directory: "/home/me/.kube"),
        ])
        let configuration = try merged.configuration(context: context)
        #expect(configuration.server == server)
        #expect(configuration.credentials == credentials)
        #expect(configuration.insecureSkipTLSVerify == insecure)
        #expect(configuration.namespace == "default")
        if context == "prod" {
            #expect(configuration.certificateAuthority == .data(Data("PEM".utf8)))
            #expect(configuration.clientCertificate == .data(Data("CERT".utf8)))
            #expect(configuration.clientKey == .file("/keys/bob.key"))
        }
    }

    @Test func missingPiecesAreTypedErrors() throws {
        let config = try Kubeconfig(yaml: Self.first)
        #expect(throws: KubeConfigurationError.self) { try config.configuration(context: "nope") }
        do {
            _ = try config.configuration(context: "nope")
        } catch let error as KubeConfigurationError {
            #expect(error.code == .missingContext)
        }
        let exec = try Kubeconfig(yaml: """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k"}}]
            users: [{name: u, user: {exec: {command: aws}}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            """)
        do {
            _ = try exec.configuration()
            Issue.record("exec users must be refused")
        } catch let error as KubeConfigurationError {
            #expect(error.code == .unsupportedAuthentication)
        }
    }

    @Test func kubeconfigEnvironmentVariableMergesSeveralFilesInOrder() throws {
        let directory = try Fixtures.temporaryDirectory()
        try Self.first.write(toFile: "\(directory)/a", atomically: true, encoding: .utf8)
        try Self.second.write(toFile: "\(directory)/b", atomically: true, encoding: .utf8)
        let both = try KubeClientConfiguration.load(environment: ["KUBECONFIG": "\(directory)/b:\(directory)/missing:\(directory)/a"])
        #expect(both.server == "https://prod.example")
        let reversed = try KubeClientConfiguration.load(environment: ["KUBECONFIG": "\(directory)/a:\(directory)/b"])
        #expect(reversed.server == "https://dev.example:6443")
        #expect(reversed.certificateAuthority == .file("\(directory)/certs/ca.crt"))
    }
}

struct InClusterConfigurationTests {
    @Test(arguments: [
        ("10.96.0.1", "443", "https://10.96.0.1:443"),
        ("fd00:10:96::1", "6443", "https://[fd00:10:96::1]:6443"),
    ])
    func usesTheServiceAccountAndBracketsIPv6(host: String, port: String, url: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        try "token-1\n".write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
        try "periscope-system".write(toFile: "\(directory)/namespace", atomically: true, encoding: .utf8)
        try "CA".write(toFile: "\(directory)/ca.crt", atomically: true, encoding: .utf8)
        let configuration = try KubeClientConfiguration.load(
            environment: ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port], serviceAccountDirectory: directory)
        #expect(configuration.server == url)
        #expect(configuration.credentials == .tokenFile("\(directory)/token"))
        #expect(configuration.certificateAuthority == .file("\(directory)/ca.crt"))
        #expect(configuration.namespace == "periscope-system")
    }

    @Test func missingEnvironmentIsAClearError() {
        do {
            _ = try InClusterConfiguration.load(environment: [:], serviceAccountDirectory: "/nonexistent")
            Issue.record("expected an error")
        } catch let error as KubeConfigurationError {
            #expect(error.code == .inClusterEnvironment)
            #expect(error.message.contains("KUBERNETES_SERVICE_HOST"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite(.serialized)
struct AuthenticationAndTLSTests {
    /// A rotated token file is used by the next request, without restarting the client.
    @Test func rotatedTokenIsPickedUpWithoutRestart() async throws {
        var serverConfiguration = TestAPIServer.Configuration()
        serverConfiguration.tokens = ["first"]
        let server = try TestAPIServer(configuration: serverConfiguration)
        try server.start()
        defer { server.stop() }
        let directory = try Fixtures.temporaryDirectory()
        let tokenFile = "\(directory)/token"
        try "first\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let client = KubeClient(
            configuration: KubeClientConfiguration(server: server.url, credentials: .tokenFile(tokenFile)), logger: Logger(label: "test"))
        _ = try await client.get(Namespace.self, name: "default")

        server.setTokens(["second"])
        do {
            _ = try await client.get(Namespace.self, name: "default")
            Issue.record("the old token must be refused once the server rotated it")
        } catch let error as KubeAPIError {
            #expect(error.code == .unauthorized)
        }
        try "second\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let namespace = try await client.get(Namespace.self, name: "default")
        #expect(namespace.metadata.name == "default")
    }

    @Test func anonymousRequestsAreForbidden() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let client = KubeClient(configuration: KubeClientConfiguration(server: server.url), logger: Logger(label: "test"))
        do {
            _ = try await client.list(Pod.self)
            Issue.record("expected 403")
        } catch let error as KubeAPIError {
            #expect(error.code == .forbidden)
            #expect(error.status?.reason == "Forbidden")
        }
    }

    @Test func tlsWithTheRightCAConnectsFromFileAndFromData() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let proxy = try TLSProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        for authority in [KubeClientConfiguration.Material.file(proxy.caFile), .data(proxy.caData)] {
            let client = KubeClient(
                configuration: KubeClientConfiguration(server: proxy.url, certificateAuthority: authority, credentials: .token("test-token")),
                logger: Logger(label: "test"))
            let namespaces = try await client.list(Namespace.self)
            #expect(namespaces.items.map { $0.metadata.name } == ["default", "kube-system"])
        }
    }

    @Test func tlsWithAWrongCAFailsWithAClearError() async throws {
        let server = try Fixtures.server()
        defer { server.stop() }
        let proxy = try TLSProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        let client = KubeClient(
            configuration: KubeClientConfiguration(server: proxy.url, certificateAuthority: .file(try TLSProxy.otherCA()), credentials: .token("test-token")),
            logger: Logger(label: "test"))
        do {
            _ = try await client.list(Namespace.self)
            Issue.record("a server certificate from another CA must be refused")
        } catch let error as KubeAPIError {
            #expect(error.code == .transport)
            #expect(error.message.contains("not trusted by the configured certificate authority"), "\(error.message)")
            #expect((error.cause as? CurlError)?.code == 60)
        }
        let insecure = KubeClient(
            configuration: KubeClientConfiguration(server: proxy.url, insecureSkipTLSVerify: true, credentials: .token("test-token")),
            logger: Logger(label: "test"))
        #expect(try await insecure.list(Namespace.self).items.count == 2)
    }
}
