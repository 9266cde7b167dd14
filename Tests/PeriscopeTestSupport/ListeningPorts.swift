import Foundation

/// The loopback port a test's server listens on when it was told to listen on port 0 (the
/// kernel chose one that nothing else holds): read from the process's own sockets, so that
/// it works for any server, whatever it prints. Fails with what the server printed when it
/// exits first or does not listen within `timeout`.
public func listeningPort(of process: TestProcess, timeout: Duration = .seconds(10)) throws -> UInt16 {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let port = ListeningPorts.ports(ofSocketInodes: ListeningPorts.socketInodes(of: process.pid)).min() { return port }
        guard process.isRunning else { throw TestFailure("the process meant to listen exited:\n\(process.log)") }
        guard ContinuousClock.now < deadline else { throw TestFailure("the process listens on no TCP port after \(timeout):\n\(process.log)") }
        usleep(20_000)
    }
}

/// The TCP ports listened on in this network namespace, from `/proc/net/tcp` and `tcp6`.
public enum ListeningPorts {
    /// The ports of the listening sockets whose inodes are in `inodes`; nil: of every one.
    public static func ports(ofSocketInodes inodes: Set<UInt64>? = nil) -> Set<UInt16> {
        var ports: Set<UInt16> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            ports.formUnion(Self.ports(procNetTCP: text, ofSocketInodes: inodes))
        }
        return ports
    }

    /// The local ports of the LISTEN rows (state 0A) of a `/proc/net/tcp` or `tcp6` table
    /// whose inodes are in `inodes` (nil: every row).
    static func ports(procNetTCP text: String, ofSocketInodes inodes: Set<UInt64>?) -> Set<UInt16> {
        var ports: Set<UInt16> = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                  let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16),
                  let inode = UInt64(fields[9])
            else { continue }
            if inodes?.contains(inode) ?? true { ports.insert(port) }
        }
        return ports
    }

    /// The inodes of the sockets `pid` holds open.
    static func socketInodes(of pid: Int32) -> Set<UInt64> {
        let directory = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var inodes: Set<UInt64> = []
        for name in names {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)"),
                  target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast())
            else { continue }
            inodes.insert(inode)
        }
        return inodes
    }
}
