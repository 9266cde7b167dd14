/// Why a file could not be read as the ELF object the TLS probes need. Files come from
/// traced processes' filesystems: every field is checked before it is used.
public struct ELFError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Not an ELF file, or one this agent does not read (32-bit, big-endian).
        case notELF = "elf.not_elf"
        /// A header, table or section lies outside the file or exceeds a limit.
        case truncated = "elf.truncated"
        /// A table's entry size or count makes no sense.
        case malformed = "elf.malformed"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
