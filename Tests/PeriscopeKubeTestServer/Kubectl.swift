import Foundation

/// The real kubectl (Debian's `/usr/bin/kubectl`) pointed at a test API server. kubectl sends
/// bearer tokens only over TLS, so it talks to the server through a `TLSProxy`.
public struct Kubectl {
    /// Scratch directory: the kubeconfig, kubectl's cache, and room for manifests.
    public let directory: String
    public let kubeconfig: String
    public let proxy: TLSProxy

    /// A kubeconfig for `server` with token `test-token` and `namespace` as the default.
    public init(server: TestAPIServer, namespace: String = "default") throws {
        proxy = try TLSProxy(upstreamPort: server.port)
        directory = try TLSProxy.temporaryDirectory()
        kubeconfig = "\(directory)/kubeconfig"
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster: {server: "\(proxy.url)", certificate-authority: "\(proxy.caFile)"}
            users:
            - name: tester
              user: {token: test-token}
            contexts:
            - name: test
              context: {cluster: test, user: tester, namespace: \(namespace)}
            current-context: test
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    /// Runs kubectl with `arguments`, `stdin` as its input, and returns what it said.
    @discardableResult
    public func run(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, output: String, error: String) {
        let path = "/usr/bin/kubectl"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestServerError(message: "kubectl is missing at \(path); install it (hack/setup.sh) to run the acceptance tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", "\(directory)/cache", "--request-timeout", "20s"] + arguments
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
