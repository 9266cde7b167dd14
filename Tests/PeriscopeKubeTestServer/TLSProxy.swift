import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// TLS in front of the test API server: a CA and a server certificate made with the `openssl`
/// CLI, terminated by a real haproxy (Debian's) forwarding to the plain-HTTP test server.
public final class TLSProxy {
    public let directory: String
    public let port: Int
    private let process: Process

    public var url: String { "https://127.0.0.1:\(port)" }
    public var caFile: String { "\(directory)/ca.crt" }
    public var caData: Data { FileManager.default.contents(atPath: caFile) ?? Data() }

    /// Starts haproxy terminating TLS on a free port and forwarding to 127.0.0.1:`upstreamPort`;
    /// with `http2`, as an HTTP proxy that offers HTTP/2 (ALPN `h2`) to clients, as real API
    /// servers do, and speaks HTTP/1.1 upstream.
    public init(upstreamPort: Int, http2: Bool = false) throws {
        directory = try Self.temporaryDirectory()
        try Self.makeCertificates(in: directory)
        port = try Self.freePort()
        let config = """
            global
              maxconn 256
            defaults
              mode \(http2 ? "http" : "tcp")
              timeout connect 5s
              timeout client 1h
              timeout server 1h
            frontend kube
              bind 127.0.0.1:\(port) ssl crt \(directory)/server.pem\(http2 ? " alpn h2,http/1.1" : "")
              default_backend testserver
            backend testserver
              server upstream 127.0.0.1:\(upstreamPort)
            """
        try (config + "\n").write(toFile: "\(directory)/haproxy.cfg", atomically: true, encoding: .utf8)
        let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let haproxy else {
            throw TestServerError(message: "haproxy is missing: install it (hack/setup.sh) to run the TLS tests")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: haproxy)
        process.arguments = ["-db", "-f", "\(directory)/haproxy.cfg"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if Self.canConnect(port: port) { return }
            usleep(50_000)
        }
        throw TestServerError(message: "haproxy did not start listening on 127.0.0.1:\(port)")
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// A second, unrelated CA: certificates it trusts are not the server's.
    public static func otherCA() throws -> String {
        let directory = try temporaryDirectory()
        try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/ca.key",
            "-out", "\(directory)/ca.crt", "-days", "1", "-subj", "/CN=someone-else-ca"])
        return "\(directory)/ca.crt"
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "periscope-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static func makeCertificates(in directory: String) throws {
        try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/ca.key",
            "-out", "\(directory)/ca.crt", "-days", "1", "-subj", "/CN=periscope-test-ca"])
        try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/server.key",
            "-out", "\(directory)/server.csr", "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: "\(directory)/ext.cnf", atomically: true, encoding: .utf8)
        try run(["x509", "-req", "-in", "\(directory)/server.csr", "-CA", "\(directory)/ca.crt", "-CAkey", "\(directory)/ca.key",
            "-CAcreateserial", "-out", "\(directory)/server.crt", "-days", "1", "-extfile", "\(directory)/ext.cnf"])
        let pem = try String(contentsOfFile: "\(directory)/server.crt", encoding: .utf8) + String(contentsOfFile: "\(directory)/server.key", encoding: .utf8)
        try pem.write(toFile: "\(directory)/server.pem", atomically: true, encoding: .utf8)
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestServerError(message: "openssl \(arguments.prefix(2).joined(separator: " ")) failed (is openssl installed?)")
        }
    }

    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard ok else { throw TestServerError(message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
