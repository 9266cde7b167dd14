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
/// a port the policy selects, as `sock_ops` would have chosen it. Under a policy that traces
/// every process (no selector, or ports only) the connections are looked for in every process,
/// once per set of ports: only the sockets their network namespace's tables show established
/// (on a selected port) from a port nobody there listens on are taken.
///
/// A connection is handed over once: a later look (the policies changed, a process was
/// selected again) passes by the ones an earlier look handed over, and never hands over those
/// `sock_ops` marked itself — among them the connections whose context travels in a TCP
/// header option, which left the sockhash for good and must not be put back.
struct OpenConnections {
    let procRoot: String
    /// The connections (socket inodes) handed over by the last look under policies tracing
    /// every process and still established on a selected port then.
    private var handedOverEverywhere: Set<UInt64> = []
    /// The connections handed over from each process's descriptors, as of its last look.
    private var handedOverByProcess: [Int32: Set<UInt64>] = [:]

    init(procRoot: String) {
        self.procRoot = procRoot
    }

    /// How many connections of `pid` were put into `propagation`'s sockhash; nil when the
    /// process could not be looked into (gone, or no ptrace access). Its connections handed
    /// over at an earlier look are passed by; one pidfd is opened for the process.
    mutating func adopt(pid: Int32, portBitmap: [UInt64]?, into propagation: Propagation) -> Int? {
        let sockets = socketDescriptors(of: pid)
        let known = handedOverByProcess.removeValue(forKey: pid) ?? []
        guard !sockets.isEmpty else { return 0 }
        var handedOver: Set<UInt64> = []
        defer { if !handedOver.isEmpty { handedOverByProcess[pid] = handedOver } }
        var process: ProcessDescriptor?
        var listening: Set<UInt16>?
        var adopted = 0
        for (fd, inode) in sockets {
            if known.contains(inode) {
                handedOver.insert(inode)
                continue
            }
            if process == nil { process = ProcessDescriptor(pid: pid) }
            guard let taken = process?.take(fd), taken != -ESRCH else { return nil }
            guard taken >= 0 else { continue }
            defer { close(taken) }
            guard let ports = Self.establishedTCPPorts(of: taken) else { continue }
            if listening == nil { listening = listeningPorts(of: pid) }
            guard !(listening ?? []).contains(ports.local),
                  Self.portSelected(local: ports.local, peer: ports.peer, bitmap: portBitmap)
            else { continue }
            if !propagation.sockOpsMarked(socket: taken), propagation.adopt(socket: taken) { adopted += 1 }
            handedOver.insert(inode)
        }
        return adopted
    }

    /// Forgets what was handed over from the processes `isKnown` denies (they exited).
    mutating func keepProcesses(where isKnown: (Int32) -> Bool) {
        guard !handedOverByProcess.isEmpty else { return }
        handedOverByProcess = handedOverByProcess.filter { isKnown($0.key) }
    }

    /// How many connections of `pids` were put into `propagation`'s sockhash, for a policy
    /// that traces every process (`portBitmap`: the ports it selects; nil, every port); nil
    /// when a process holding one could not be looked into (no ptrace access).
    ///
    /// Each network namespace's tables are read once, when the first of its processes comes,
    /// and each connection they list is taken once: from the first process found holding it
    /// (a socket shared across a fork is one connection), unless an earlier look handed it
    /// over. Once every connection of a namespace was taken, its other processes are passed
    /// by with one `readlink`. The cost is one read of each namespace's tables, a `readlink`
    /// of each socket descriptor of the processes looked into, a pidfd for each process a
    /// connection is taken from, and for each connection taken `pidfd_getfd`, five
    /// `getsockopt` and two map operations.
    mutating func adopt(pids: some Sequence<Int32>, portBitmap: [UInt64]?, into propagation: Propagation) -> Int? {
        let known = handedOverEverywhere
        var handedOver: Set<UInt64> = []
        var complete = false
        // An unfinished look forgets nothing it did not get to.
        defer { handedOverEverywhere = complete ? handedOver : known.union(handedOver) }
        var remainingByNamespace: [String: Set<UInt64>] = [:]
        var adopted = 0
        for pid in pids {
            guard let namespace = link("\(procRoot)/\(pid)/ns/net") else { continue }
            // Taken out while this process is looked into, so that removals do not copy it.
            var remaining = remainingByNamespace.removeValue(forKey: namespace) ?? {
                let tables = ["tcp", "tcp6"].compactMap { System.readWholeFile("\(procRoot)/\(pid)/net/\($0)", limit: 64 << 20) }
                var selected = Self.connectionInodes(procNetTCP: tables, bitmap: portBitmap)
                let handedOverBefore = selected.intersection(known)
                handedOver.formUnion(handedOverBefore)
                selected.subtract(handedOverBefore)
                return selected
            }()
            defer { remainingByNamespace[namespace] = remaining }
            guard !remaining.isEmpty else { continue }
            var process: ProcessDescriptor?
            for (fd, inode) in socketDescriptors(of: pid) where remaining.contains(inode) {
                if process == nil { process = ProcessDescriptor(pid: pid) }
                guard let taken = process?.take(fd) else { return nil }
                if taken == -ESRCH { break }
                guard taken >= 0 else { continue }
                defer { close(taken) }
                remaining.remove(inode)
                guard Self.establishedTCPPorts(of: taken) != nil else { continue }
                if !propagation.sockOpsMarked(socket: taken), propagation.adopt(socket: taken) { adopted += 1 }
                handedOver.insert(inode)
            }
        }
        complete = true
        return adopted
    }

    /// The socket inodes of the connections a process of one network namespace opened (its
    /// local port is not one listened on there) that are established to or from a port of
    /// `bitmap` (nil: any port), from that namespace's `/proc/net/tcp` and `tcp6` tables.
    static func connectionInodes(procNetTCP tables: [[UInt8]], bitmap: [UInt64]?) -> Set<UInt64> {
        var listening: Set<UInt16> = []
        var established: [(local: UInt16, peer: UInt16, inode: UInt64)] = []
        for table in tables {
            table.withUnsafeBufferPointer { bytes in
                TCPTable.forEachRow(in: bytes) { row in
                    if row.state == TCPTable.Row.listening {
                        listening.insert(row.localPort)
                    } else if row.state == TCPTable.Row.established, let peer = row.peerPort, let inode = row.inode, inode != 0 {
                        established.append((row.localPort, peer, inode))
                    }
                }
            }
        }
        var inodes = Set<UInt64>(minimumCapacity: established.count)
        for row in established where !listening.contains(row.local) && portSelected(local: row.local, peer: row.peer, bitmap: bitmap) {
            inodes.insert(row.inode)
        }
        return inodes
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
            ports.formUnion(Self.listeningPorts(procNetTCP: bytes))
        }
        return ports
    }

    /// The local ports of the LISTEN rows of a `/proc/net/tcp` or `tcp6` table.
    static func listeningPorts(procNetTCP table: [UInt8]) -> Set<UInt16> {
        var ports: Set<UInt16> = []
        table.withUnsafeBufferPointer { bytes in
            TCPTable.forEachRow(in: bytes) { row in
                if row.state == TCPTable.Row.listening { ports.insert(row.localPort) }
            }
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

/// A pidfd of one process, opened once for all the descriptors taken from it, closed with it.
private final class ProcessDescriptor {
    /// The pidfd, or -errno when it could not be opened (the process is gone).
    private let descriptor: Int32

    init(pid: Int32) {
        descriptor = CPeriscopeBPF_open_process(pid)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// This process's descriptor for the process's `fd`, or -errno (-ESRCH: the process is
    /// gone); nil when the agent has no ptrace access to it.
    func take(_ fd: Int32) -> Int32? {
        let taken = descriptor >= 0 ? CPeriscopeBPF_take_descriptor(descriptor, fd) : descriptor
        return taken == -EPERM ? nil : taken
    }
}
