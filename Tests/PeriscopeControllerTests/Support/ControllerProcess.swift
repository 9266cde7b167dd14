import Foundation
import PeriscopeKubeTestServer

#if canImport(Glibc)
import Glibc
#endif

/// The `periscope-controller` executable run against the test API server with `--kubeconfig`.
final class ControllerProcess {
    let identity: String
    let process = Process()
    let logFile: String

    /// The executable built next to this test bundle.
    static var executablePath: String {
        get throws {
            let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for directory in [bundle, bundle.deletingLastPathComponent()] {
                let candidate = directory.appendingPathComponent("periscope-controller").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            throw TestServerError(message: "periscope-controller is not built next to \(bundle.path); run `swift build --build-tests` first")
        }
    }

    init(server: TestAPIServer, identity: String, extraArguments: [String] = []) throws {
        self.identity = identity
        let directory = try Harness.temporaryDirectory()
        let kubeconfig = "\(directory)/kubeconfig"
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster: {server: "\(server.url)"}
            users:
            - name: controller
              user: {token: test-token}
            contexts:
            - name: test
              context: {cluster: test, user: controller, namespace: kube-system}
            current-context: test
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        logFile = "\(directory)/controller.log"
        FileManager.default.createFile(atPath: logFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: try Self.executablePath)
        process.arguments = [
            "--kubeconfig", kubeconfig, "--identity", identity, "--lease-duration", "4", "--renew-deadline", "3", "--retry-period", "0.25",
            "--health-port", "0",
        ] + extraArguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: logFile)
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// SIGKILL: no graceful shutdown, the lease is not released.
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait.
    func terminate() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
