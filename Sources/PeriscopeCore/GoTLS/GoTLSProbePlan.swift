/// Where to put the crypto/tls probes in one Go executable, and what the kernel programs
/// need to know about it (`struct periscope_gotls_binary` in bpf/include/periscope_gotls.h).
public struct GoTLSProbePlan: Sendable, Equatable {
    /// What a probe is at; the raw values are `enum periscope_gotls_probe`.
    public enum Kind: UInt64, Sendable, Equatable {
        case readEntry = 1
        case readReturn = 2
        case writeEntry = 3
    }

    /// A uprobe: the file offset of an instruction and what it is.
    public struct Probe: Sendable, Equatable {
        public var offset: UInt64
        public var kind: Kind

        public init(offset: UInt64, kind: Kind) {
            self.offset = offset
            self.kind = kind
        }
    }

    /// The toolchain's version text (`go1.19.8`).
    public var goVersion: String
    public var offsets: GoTLSFieldOffsets
    /// `crypto/tls.(*Conn).Read`'s and `Write`'s addresses in the file.
    public var readAddress: UInt64
    public var writeAddress: UInt64
    /// The address of the itab of (*net.TCPConn, net.Conn); nil when the symbol table has none.
    public var tcpConnItab: UInt64?
    public var probes: [Probe]

    public init(
        goVersion: String, offsets: GoTLSFieldOffsets, readAddress: UInt64, writeAddress: UInt64,
        tcpConnItab: UInt64?, probes: [Probe]
    ) {
        self.goVersion = goVersion
        self.offsets = offsets
        self.readAddress = readAddress
        self.writeAddress = writeAddress
        self.tcpConnItab = tcpConnItab
        self.probes = probes
    }

    /// The number of RET instructions probed in Read.
    public var returnCount: Int { probes.filter { $0.kind == .readReturn }.count }
}

/// Where the fields on the way from a `*tls.Conn` to its descriptor are, in bytes, and
/// where that was learnt.
public struct GoTLSFieldOffsets: Sendable, Equatable {
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// The binary's own DWARF.
        case dwarf
        /// The table of known layouts, for the binary's Go version.
        case versionTable

        public var description: String {
            switch self {
            case .dwarf: "dwarf"
            case .versionTable: "version_table"
            }
        }
    }

    /// `crypto/tls.Conn.conn`, a `net.Conn` interface (itab, data).
    public var connInTLSConn: UInt64
    /// `net.TCPConn.conn` + `net.conn.fd`: the `*net.netFD` in a `*net.TCPConn`.
    public var fdInConn: UInt64
    /// `net.netFD.pfd`, an `internal/poll.FD`.
    public var pfdInNetFD: UInt64
    /// `internal/poll.FD.Sysfd`.
    public var sysfdInFD: UInt64
    public var source: Source

    public init(connInTLSConn: UInt64, fdInConn: UInt64, pfdInNetFD: UInt64, sysfdInFD: UInt64, source: Source) {
        self.connInTLSConn = connInTLSConn
        self.fdInConn = fdInConn
        self.pfdInNetFD = pfdInNetFD
        self.sysfdInFD = sysfdInFD
        self.source = source
    }

    /// The DWARF members the offsets come from.
    static let members: [DWARFStructReader.Member] = [
        .init("crypto/tls.Conn", "conn"), .init("net.TCPConn", "conn"), .init("net.conn", "fd"),
        .init("net.netFD", "pfd"), .init("internal/poll.FD", "Sysfd"),
    ]

    /// From DWARF member offsets; nil unless all of them were found.
    init?(dwarf found: [DWARFStructReader.Member: UInt64]) {
        let values = Self.members.compactMap { found[$0] }
        guard values.count == Self.members.count, values.allSatisfy({ $0 < 1 << 16 }) else { return nil }
        self.init(connInTLSConn: values[0], fdInConn: values[1] + values[2], pfdInNetFD: values[3], sysfdInFD: values[4], source: .dwarf)
    }

    /// The releases whose layouts the table holds: the fields read have not moved from Go
    /// 1.17 (the first with the register ABI) to 1.25 — `conn` first in `tls.Conn`, `fd`
    /// first in `net.conn`, `pfd` first in `net.netFD`, and `Sysfd` after the 16-byte
    /// `fdMutex` in `poll.FD`.
    public static let tableRange = GoVersion(1, 17)..<GoVersion(1, 26)

    /// The known layout for `version`; nil outside `tableRange`.
    public static func table(for version: GoVersion) -> GoTLSFieldOffsets? {
        guard tableRange.contains(version) else { return nil }
        return GoTLSFieldOffsets(connInTLSConn: 0, fdInConn: 0, pfdInNetFD: 0, sysfdInFD: 16, source: .versionTable)
    }
}
