import CPeriscopeBPF
import PeriscopeBPF
import PeriscopeSystem
#if canImport(Glibc)
import Glibc
#endif

/// The TCP connections a process opened before it was traced, handed to `Propagation` so that
/// their HTTP/1 requests get `traceparent` from their next write: `sock_ops` marks only the
/// connections a process opens once it is traced, and a process selected by its executable is
/// selected a few milliseconds after its exec (an agent starting finds connections open too).
///
/// Each socket descriptor of the process is taken with `pidfd_getfd` (ptrace access to the
/// process: root, or CAP_SYS_PTRACE) and kept when it is an established TCP connection the
/// process opened — its local port is not one its network namespace listens on — to or from
/// a port the policy selects, as `sock_ops` would have chosen it. Under a policy that selects
/// by port only (every process traced) the connections are looked for in every process, once
/// per set of ports: only the sockets their network namespace's tables show established on
/// a selected port are taken.
struct OpenConnections {
    let procRoot: String

    /// How many connections of `pid` were put into `propagation`'s sockhash; nil when the
    /// process could not be looked into (gone, or no ptrace access).
    func adopt(pid: Int32, portBitmap: [UInt64]?, into propagation: Propagation) -> Int? {
        let sockets = socketDescriptors(of: pid)
        guard !sockets.isEmpty else { return 0 }
        var listening: Set<UInt16>?
        var adopted = 0
        for (fd, _) in sockets {
            let taken = CPeriscopeBPF_take_descriptor(pid, fd)
            if taken == -EPERM || taken == -ESRCH { return nil }
            guard taken >= 0 else { continue }
            defer { close(taken) }
            guard let ports = Self.establishedTCPPorts(of: taken) else { continue }
            if listening == nil { listening = listeningPorts(of: pid) }
            guard !(listening ?? []).contains(ports.local),
                  Self.portSelected(local: ports.local, peer: ports.peer, bitmap: portBitmap)
            else { continue }
            if propagation.adopt(socket: taken) { adopted += 1 }
        }
        return adopted
    }

    /// How many connections of `pids` were put into `propagation`'s sockhash, for a policy
    /// selecting by port only (`portBitmap`); nil when a process holding one could not be
    /// looked into (no ptrace access). Each network namespace's tables are read once.
    func adopt(pids: some Sequence<Int32>, portBitmap: [UInt64], into propagation: Propagation) -> Int? {
        var inodesByNamespace: [String: Set<UInt64>] = [:]
        var adopted = 0
        for pid in pids {
            guard let namespace = link("\(procRoot)/\(pid)/ns/net") else { continue }
            let inodes = inodesByNamespace[namespace] ?? {
                let tables = ["tcp", "tcp6"].compactMap { table in
                    System.readWholeFile("\(procRoot)/\(pid)/net/\(table)", limit: 64 << 20).map { String(decoding: $0, as: UTF8.self) }
                }
                let found = Self.connectionInodes(procNetTCP: tables, bitmap: portBitmap)
                inodesByNamespace[namespace] = found
                return found
            }()
            guard !inodes.isEmpty else { continue }
            for (fd, inode) in socketDescriptors(of: pid) where inodes.contains(inode) {
                let taken = CPeriscopeBPF_take_descriptor(pid, fd)
                if taken == -EPERM { return nil }
                if taken == -ESRCH { break }
                guard taken >= 0 else { continue }
                defer { close(taken) }
                if Self.establishedTCPPorts(of: taken) != nil, propagation.adopt(socket: taken) { adopted += 1 }
            }
        }
        return adopted
    }

    /// The socket inodes of the connections a process of one network namespace opened (its
    /// local port is not one listened on there) that are established to or from a port of
    /// `bitmap`, from that namespace's `/proc/net/tcp` and `tcp6` tables.
    static func connectionInodes(procNetTCP tables: [String], bitmap: [UInt64]) -> Set<UInt64> {
        var listening: Set<UInt16> = []
        for table in tables { listening.formUnion(listeningPorts(procNetTCP: table)) }
        var inodes: Set<UInt64> = []
        for table in tables {
            for line in table.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl, local address, remote address, state (01: established), …, inode (10th).
                guard fields.count > 9, fields[3] == "01",
                      let local = port(ofAddress: fields[1]), let peer = port(ofAddress: fields[2]),
                      let inode = UInt64(fields[9]), inode != 0,
                      !listening.contains(local), portSelected(local: local, peer: peer, bitmap: bitmap)
                else { continue }
                inodes.insert(inode)
            }
        }
        return inodes
    }

    /// The port of an `ADDRESS:PORT` field of `/proc/net/tcp`, both in hexadecimal.
    private static func port(ofAddress field: Substring) -> UInt16? {
        guard let colon = field.lastIndex(of: ":") else { return nil }
        return UInt16(field[field.index(after: colon)...], radix: 16)
    }

    /// The descriptors of `pid` that are sockets, with their inodes.
    private func socketDescriptors(of pid: Int32) -> [(fd: Int32, inode: UInt64)] {
        guard let directory = opendir("\(procRoot)/\(pid)/fd") else { return [] }
        defer { closedir(directory) }
        var sockets: [(fd: Int32, inode: UInt64)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let fd = Int32(name), let target = link("\(procRoot)/\(pid)/fd/\(fd)"), target.hasPrefix("socket:[") else { continue }
            sockets.append((fd, UInt64(target.dropFirst(8).dropLast()) ?? 0))
        }
        return sockets
    }

    /// Where the symbolic link at `path` points.
    private func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The TCP ports listened on in `pid`'s network namespace, IPv4 and IPv6.
    private func listeningPorts(of pid: Int32) -> Set<UInt16> {
        var ports: Set<UInt16> = []
        for table in ["tcp", "tcp6"] {
            guard let bytes = System.readWholeFile("\(procRoot)/\(pid)/net/\(table)", limit: 64 << 20) else { continue }
            ports.formUnion(Self.listeningPorts(procNetTCP: String(decoding: bytes, as: UTF8.self)))
        }
        return ports
    }

    /// The local ports of the LISTEN rows (state `0A`) of a `/proc/net/tcp` or `tcp6` table.
    static func listeningPorts(procNetTCP table: String) -> Set<UInt16> {
        var ports: Set<UInt16> = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[3] == "0A",
                  let colon = fields[1].lastIndex(of: ":"),
                  let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16)
            else { continue }
            ports.insert(port)
        }
        return ports
    }

    /// Whether a connection between `local` and `peer` is selected by the policy's port
    /// bitmap (bit p%64 of word p/64 = port p; nil: every port), as the kernel decides it.
    static func portSelected(local: UInt16, peer: UInt16, bitmap: [UInt64]?) -> Bool {
        guard let bitmap else { return true }
        func has(_ port: UInt16) -> Bool {
            let word = Int(port >> 6)
            return bitmap.indices.contains(word) && (bitmap[word] >> UInt64(port & 63)) & 1 == 1
        }
        return has(local) || has(peer)
    }

    /// The local and peer ports of `fd` when it is an established IPv4 or IPv6 TCP connection.
    private static func establishedTCPPorts(of fd: Int32) -> (local: UInt16, peer: UInt16)? {
        func option(_ level: Int32, _ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, level, name, &value, &length) == 0 ? value : nil
        }
        guard let domain = option(SOL_SOCKET, SO_DOMAIN), domain == AF_INET || domain == AF_INET6,
              option(SOL_SOCKET, SO_PROTOCOL) == Int32(IPPROTO_TCP)
        else { return nil }
        // The first byte of struct tcp_info is the connection's state; 1 is TCP_ESTABLISHED.
        var info = [UInt8](repeating: 0, count: 256)
        var length = socklen_t(info.count)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, length > 0, info[0] == 1 else { return nil }
        func port(_ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> UInt16? {
            var address = sockaddr_storage()
            var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let status = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, &size) }
            }
            guard status == 0 else { return nil }
            // sin_port and sin6_port are both at offset 2, in network order.
            return withUnsafeBytes(of: &address) { UInt16($0[2]) << 8 | UInt16($0[3]) }
        }
        guard let local = port({ getsockname(fd, $0, $1) }), let peer = port({ getpeername(fd, $0, $1) }) else { return nil }
        return (local, peer)
    }
}
