/// Which TLS libraries are probed, in how many traced processes, and why a traced process
/// that maps one could not be probed.
public struct TLSProbeStatus: Sendable, Equatable {
    public struct ProbedFile: Sendable, Equatable {
        /// The path as the first process seen mapping it named it.
        public var path: String
        public var library: String
        /// Traced processes mapping it.
        public var processes: Int

        public init(path: String, library: String, processes: Int) {
            self.path = path
            self.library = library
            self.processes = processes
        }
    }

    public struct Refusal: Sendable, Equatable {
        public var pid: Int32
        /// Stable code first (`tls.no_symbols`, `elf.not_elf`, `tls.attach_failed`, …), then details.
        public var reason: String

        public init(pid: Int32, reason: String) {
            self.pid = pid
            self.reason = reason
        }
    }

    public var files: [ProbedFile] = []
    public var processesProbed = 0
    public var refusals: [Refusal] = [] {
        didSet { refusalsByCode = Self.countByCode(refusals) }
    }
    /// Refused processes by reason code; a process refused for several files counts once per
    /// distinct code. Counted when the refusals are set (by the attacher's thread), not each
    /// time the metrics are read: the reasons are parsed as text.
    public private(set) var refusalsByCode: [String: Int] = [:]

    public init() {}

    private static func countByCode(_ refusals: [Refusal]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for refusal in refusals {
            for code in Set(refusal.codes) { counts[code, default: 0] += 1 }
        }
        return counts
    }
}

extension TLSProbeStatus.Refusal {
    /// The stable codes of the reasons: one per `; `-separated part, the first of its `: `-
    /// separated fields shaped like a code (`tls.no_symbols`), after the file's path.
    public var codes: [String] {
        reason.split(separator: "; ").compactMap { part in
            part.split(separator: ": ").first(where: Self.isCode).map(String.init)
        }
    }

    /// Lowercase letters, digits and underscores with a dot between: `area.what`.
    static func isCode(_ field: Substring) -> Bool {
        let pieces = field.split(separator: ".", omittingEmptySubsequences: false)
        return pieces.count == 2 && pieces.allSatisfy { piece in
            !piece.isEmpty && piece.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
        }
    }
}
