import Foundation
import PeriscopeKube
import PeriscopeKubeTestServer

/// A test API server with the project's CRDs, a kubeconfig for it, and the built executables.
final class Cluster {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The directory `swift build` put the executables in, next to this test bundle.
    static let binDirectory: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [bundle, bundle.deletingLastPathComponent()]
        where FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("periscopectl").path) {
            return directory.path
        }
        return bundle.path
    }()

    let server: TestAPIServer
    /// TLS in front of the server: kubectl sends credentials only over TLS.
    let proxy: TLSProxy
    let directory: String
    let kubeconfig: String

    init(namespaces: [String] = ["default", "kube-system", "shop"], crds: Bool = true) throws {
        var configuration = TestAPIServer.Configuration()
        if crds {
            configuration.crdFiles = ["\(Self.packageRoot)/crds/instrumentationpolicy.yaml", "\(Self.packageRoot)/crds/nodeinstrumentation.yaml"]
        }
        configuration.namespaces = namespaces
        configuration.bookmarkInterval = .milliseconds(500)
        server = try TestAPIServer(configuration: configuration)
        try server.start()
        directory = try Self.temporaryDirectory()
        proxy = try TLSProxy(upstreamPort: server.port)
        kubeconfig = "\(directory)/kubeconfig"
        try Self.kubeconfig(server: proxy.url, certificateAuthority: proxy.caFile).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    deinit {
        proxy.stop()
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "periscopectl-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func kubeconfig(server: String, certificateAuthority: String? = nil, token: String = "test-token", namespace: String = "default") -> String {
        let ca = certificateAuthority.map { ", certificate-authority: \($0)" } ?? ""
        return """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "\(server)"\(ca)}}]
        users: [{name: test, user: {token: \(token)}}]
        contexts: [{name: test, context: {cluster: test, user: test, namespace: \(namespace)}}]
        current-context: test
        """
    }

    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs a program with `KUBECONFIG` set to this cluster and `HOME` to a scratch directory.
    func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory, "KUBECONFIG": kubeconfig]
        environment.merge(extra) { $1 }
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self), error: String(decoding: errData, as: UTF8.self))
    }

    func periscopectl(_ arguments: String..., environment: [String: String] = [:]) throws -> Result {
        try run("\(Self.binDirectory)/periscopectl", arguments, environment: environment)
    }

    func kubectl(_ arguments: String...) throws -> Result {
        try run("/usr/bin/kubectl", arguments)
    }
}
