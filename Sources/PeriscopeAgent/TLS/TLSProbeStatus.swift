/// Which TLS libraries are probed, in how many traced processes, and why a traced process
/// that maps one could not be probed.
public struct TLSProbeStatus: Sendable, Equatable {
    public struct ProbedFile: Sendable, Equatable {
        /// The path as the first process seen mapping it named it.
        public var path: String
        public var library: String
        /// Traced processes mapping it.
        public var processes: Int
    }

    public struct Refusal: Sendable, Equatable {
        public var pid: Int32
        /// Stable code first (`tls.no_symbols`, `elf.not_elf`, `tls.attach_failed`, …), then details.
        public var reason: String
    }

    public var files: [ProbedFile] = []
    public var processesProbed = 0
    public var refusals: [Refusal] = []

    public init() {}
}
