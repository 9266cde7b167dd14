/// Decides from a file's symbols whether and where it gets TLS probes. Pure: the file is
/// read through `ELFFile`'s reader, nothing else.
public enum TLSProbePlanner {
    /// Why a file that looked like a TLS library gets no probes.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not an ELF file this agent reads, or a broken one.
        case unreadable(ELFError)
        /// The file has none of the functions probed (stripped, or not the library).
        case noSymbols(String)

        public var code: String {
            switch self {
            case .unreadable(let error): error.code.rawValue
            case .noSymbols: "tls.no_symbols"
            }
        }

        public var description: String {
            switch self {
            case .unreadable(let error): error.description
            case .noSymbols(let what): "tls.no_symbols: \(what)"
            }
        }
    }

    /// OpenSSL's functions whose presence makes a file libssl.
    static let opensslRequired: [TLSFunction] = [.sslRead, .sslWrite]

    /// Whether a mapped file is worth opening: OpenSSL's shared library by name, or the
    /// process's executable (which may link OpenSSL statically and export it).
    public static func isCandidate(_ file: MappedFile, executable: String?) -> Bool {
        let name = file.path.split(separator: "/").last.map(String.init) ?? file.path
        return name.hasPrefix("libssl.so") || (file.executable && file.path == executable)
    }

    /// The probes for `file`; nil when it has no TLS library (not an error).
    public static func plan(for file: ELFFile) throws(Refusal) -> TLSProbePlan? {
        let symbols: [String: ELFSymbol]
        do {
            // OpenSSL's API is exported (from libssl, or from an executable linking it
            // statically for its addons, as Node.js does): `.dynsym` is enough, and small.
            symbols = try file.functions(named: Set(TLSFunction.allCases.map(\.symbol)), exportedOnly: true)
        } catch {
            throw .unreadable(error)
        }
        guard opensslRequired.allSatisfy({ symbols[$0.symbol] != nil }) else { return nil }
        var entries: [TLSProbePlan.Probe] = []
        for function in TLSFunction.allCases {
            guard let symbol = symbols[function.symbol] else { continue }
            entries.append(.init(offset: symbol.fileOffset, function: function))
        }
        return TLSProbePlan(library: .openssl, entries: entries, returns: entries)
    }
}
