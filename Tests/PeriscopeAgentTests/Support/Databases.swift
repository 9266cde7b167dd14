import Foundation
import PeriscopeTestSupport

/// The setup's virtual environment (hack/setup.sh): python with psycopg, PyMySQL and redis-py.
let driversPython = "/opt/periscope/venv/bin/python"

/// Runs `arguments` as the unprivileged `user` (database servers refuse to run as root).
private func asUser(_ user: String, _ arguments: [String]) -> [String] {
    ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + arguments
}

/// A directory owned by `user`, only theirs, inside a root-owned scratch directory.
private func makeDirectory(_ path: String, ownedBy user: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try FileManager.default.setAttributes([.ownerAccountName: user, .groupOwnerAccountName: user], ofItemAtPath: path)
}

/// Runs a program to its end and fails with what it printed unless it exits with 0.
@discardableResult
func runChecked(_ executable: String, _ arguments: [String]) throws -> (output: String, pid: Int32) {
    let process = try TestProcess(executable, arguments)
    let status = process.wait()
    guard status == 0 else {
        throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited with \(status):\n\(process.log)")
    }
    return (process.log, process.pid)
}

/// A throwaway PostgreSQL cluster from Debian's binaries, on 127.0.0.1:`port`, run as the
/// `postgres` user from a scratch directory; trust authentication, no TLS, no fsync.
final class PostgreSQLServer {
    let port: UInt16
    let directory: TemporaryDirectory
    let process: TestProcess
    /// The postmaster: it accepts connections and forks one backend per connection.
    var pid: Int32 { process.pid }

    /// `tls`: the server accepts SSLRequest with a self-signed certificate.
    init(port: UInt16, tls: Bool = false) throws {
        self.port = port
        let binaries = try Self.binaries()
        directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        try makeDirectory(data, ownedBy: "postgres")
        try runChecked("setpriv", asUser("postgres", [
            "\(binaries)/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
        ]))
        var settings = ["ssl=off"]
        if tls {
            try runChecked("setpriv", asUser("postgres", [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", "\(data)/server.key", "-out", "\(data)/server.crt",
            ]))
            settings = ["ssl=on", "ssl_cert_file=\(data)/server.crt", "ssl_key_file=\(data)/server.key"]
        }
        process = try TestProcess("setpriv", asUser("postgres", [
            "\(binaries)/postgres", "-D", data, "-p", "\(port)", "-k", data,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
        ] + settings.flatMap { ["-c", $0] }))
        try waitForPort(port, of: process, timeout: .seconds(30))
    }

    deinit { process.stop(signal: SIGINT) }

    /// Runs `sql` with psql as the superuser, before or outside what a test traces.
    func psql(_ sql: String) throws {
        try runChecked("psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql])
    }

    /// Debian's server binaries of the newest major version installed.
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).max(), FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/postgres") else {
            throw TestFailure("PostgreSQL's server is not installed (\(root)/*/bin/postgres); hack/setup.sh installs the postgresql package")
        }
        return "\(root)/\(newest)/bin"
    }
}

/// A throwaway MariaDB server from Debian's binaries, on 127.0.0.1:`port`, run as the `mysql`
/// user from a scratch directory; `root` without a password over TCP, database `shop`.
final class MariaDBServer {
    let port: UInt16
    let directory: TemporaryDirectory
    let process: TestProcess
    var pid: Int32 { process.pid }

    init(port: UInt16) throws {
        self.port = port
        directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        try makeDirectory(data, ownedBy: "mysql")
        try runChecked("setpriv", asUser("mysql", [
            try TestProcess.which("mariadb-install-db"), "--no-defaults", "--datadir=\(data)", "--auth-root-authentication-method=normal", "--skip-test-db",
        ]))
        process = try TestProcess("setpriv", asUser("mysql", [
            try TestProcess.which("mariadbd"), "--no-defaults", "--datadir=\(data)", "--port=\(port)", "--bind-address=127.0.0.1",
            "--socket=\(data)/mariadb.sock", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
        ]))
        try waitForPort(port, of: process, timeout: .seconds(30))
        try mariadb("CREATE DATABASE shop")
    }

    deinit { process.stop() }

    /// Runs `sql` with the mariadb client as root, before or outside what a test traces.
    func mariadb(_ sql: String, database: String? = nil) throws {
        try runChecked("mariadb", ["-h", "127.0.0.1", "-P", "\(port)", "-u", "root"] + (database.map { [$0] } ?? []) + ["-e", sql])
    }
}

extension [PrintedSpan] {
    /// The spans of one database system.
    func database(_ system: String) -> [PrintedSpan] {
        filter { $0.string("db.system.name") == system }
    }
}

extension PrintedSpan {
    var operation: String? { string("db.operation.name") }
    var queryText: String? { string("db.query.text") }
    var dbStatus: String? { string("db.response.status_code") }
}
