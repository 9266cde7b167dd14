import Foundation
import Logging
import PeriscopeKube
import PeriscopeKubeTestServer

enum Fixtures {
    /// The package root (…/Tests/PeriscopeKubeTests/Support/Fixtures.swift → …).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var crdFile: String { "\(packageRoot)/crds/instrumentationpolicy.yaml" }

    /// The reference transcripts recorded from a real kube-apiserver (see its README.md).
    static var transcriptDirectory: String { "\(packageRoot)/Tests/Fixtures/kube-api" }

    static func server(
        initialRevision: Int = 1, bookmarkInterval: Duration = .seconds(1), namespaces: [String] = ["default", "kube-system"]
    ) throws -> TestAPIServer {
        var configuration = TestAPIServer.Configuration()
        configuration.crdFiles = [crdFile]
        configuration.initialRevision = initialRevision
        configuration.bookmarkInterval = bookmarkInterval
        configuration.namespaces = namespaces
        let server = try TestAPIServer(configuration: configuration)
        try server.start()
        return server
    }

    static func client(_ server: TestAPIServer, token: String = "test-token", maxRetries: Int = 5) -> KubeClient {
        KubeClient(
            configuration: KubeClientConfiguration(server: server.url, credentials: .token(token), maxRetries: maxRetries),
            logger: Logger(label: "test"))
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "periscope-kube-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func policy(_ name: String, namespace: String = "default", port: Int64, labels: [String: String]? = nil) -> DynamicObject {
        DynamicObject(
            type: .instrumentationPolicies, metadata: ObjectMeta(name: name, namespace: namespace, labels: labels),
            fields: ["spec": ["ports": [["port": .int(port)]]]])
    }
}

extension KubeResourceType {
    /// The custom resource the client tests exercise (its CRD is `crds/instrumentationpolicy.yaml`);
    /// the client itself knows no Periscope resource.
    static let instrumentationPolicies = KubeResourceType(
        group: "periscope.dev", version: "v1alpha1", plural: "instrumentationpolicies", kind: "InstrumentationPolicy", namespaced: true)
}
