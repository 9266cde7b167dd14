/// Where to put the TLS probes in one library or executable file, and what each probe is.
public struct TLSProbePlan: Sendable, Equatable {
    /// A uprobe: the file offset of an instruction and the function it reports (the attach cookie).
    public struct Probe: Sendable, Equatable {
        public var offset: UInt64
        public var function: TLSFunction

        public init(offset: UInt64, function: TLSFunction) {
            self.offset = offset
            self.function = function
        }
    }

    public var library: TLSLibrary
    /// Probes at function entries.
    public var entries: [Probe]
    /// Probes where the functions return (uretprobes for OpenSSL).
    public var returns: [Probe]

    public init(library: TLSLibrary, entries: [Probe], returns: [Probe]) {
        self.library = library
        self.entries = entries
        self.returns = returns
    }
}

/// The TLS implementations Periscope reads plaintext from.
public enum TLSLibrary: String, Sendable, Equatable, CaseIterable {
    /// OpenSSL's libssl (1.1 or 3.x), shared or linked into an executable that exports its symbols.
    case openssl
    /// Go's crypto/tls, compiled into a Go executable (Go 1.17+).
    case goCryptoTLS = "go_crypto_tls"
}

/// The functions a probe can be at; the raw values are the kernel programs' attach cookies
/// (`enum periscope_tls_function` in bpf/include/periscope_tls.h).
public enum TLSFunction: UInt64, Sendable, Equatable, CaseIterable {
    case sslRead = 1
    case sslReadEx = 2
    case sslWrite = 3
    case sslWriteEx = 4
    case sslHandshake = 5
    case sslShutdown = 6

    /// The library's name for it.
    public var symbol: String {
        switch self {
        case .sslRead: "SSL_read"
        case .sslReadEx: "SSL_read_ex"
        case .sslWrite: "SSL_write"
        case .sslWriteEx: "SSL_write_ex"
        case .sslHandshake: "SSL_do_handshake"
        case .sslShutdown: "SSL_shutdown"
        }
    }
}
