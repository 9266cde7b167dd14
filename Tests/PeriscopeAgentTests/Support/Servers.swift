import Foundation
import PeriscopeTestSupport

/// A scratch directory removed when the test is done.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "periscope-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ contents: String) throws -> String {
        let file = "\(path)/\(name)"
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// python3's http.server on 127.0.0.1:`port`, serving `directory`.
func startPythonServer(port: UInt16, directory: String, executable: String = "python3") throws -> TestProcess {
    let server = try TestProcess(executable, ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", directory])
    try waitForPort(port, of: server)
    return server
}

/// nginx in the foreground with `httpBlock` as the body of its `http {}` section and
/// `main` (e.g. `load_module`) before it.
func startNginx(in directory: TemporaryDirectory, port: UInt16, main: String = "", httpBlock: String) throws -> TestProcess {
    let prefix = directory.path
    let config = try directory.write("nginx.conf", """
        \(main)
        daemon off;
        worker_processes 1;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/error.log warn;
        events { worker_connections 1024; }
        http {
            access_log off;
            client_body_temp_path \(prefix)/body;
            proxy_temp_path \(prefix)/proxy;
            keepalive_requests 100000;
            \(httpBlock)
        }
        """)
    let nginx = try TestProcess("nginx", ["-c", config, "-p", prefix])
    try waitForPort(port, of: nginx)
    return nginx
}

/// haproxy in the foreground with `body` after its global and defaults sections.
func startHAProxy(in directory: TemporaryDirectory, port: UInt16, body: String) throws -> TestProcess {
    let config = try directory.write("haproxy.cfg", """
        global
            maxconn 256
        defaults
            timeout connect 5s
            timeout client 30s
            timeout server 30s
        \(body)

        """)
    let check = try run("haproxy", ["-c", "-f", config])
    guard check.contains("Configuration file is valid") else {
        throw TestFailure("haproxy rejects its test configuration:\n\(check)\n\((try? String(contentsOfFile: config, encoding: .utf8)) ?? "")")
    }
    let haproxy = try TestProcess("haproxy", ["-db", "-f", config])
    try waitForPort(port, of: haproxy)
    return haproxy
}
