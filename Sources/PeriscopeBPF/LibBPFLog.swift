import CLibBPF
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Collects libbpf's own messages so that a failed load can say what the verifier or
/// the relocation step reported.
final class LibBPFLog: Sendable {
    static let shared = LibBPFLog()

    private let lines = Mutex<[String]>([])

    private init() {
        libbpf_set_print { level, format, arguments in
            guard let format, let arguments else { return 0 }
            var buffer = [CChar](repeating: 0, count: 1024)
            let count = vsnprintf(&buffer, buffer.count, format, arguments)
            guard count > 0 else { return 0 }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
            if level != LIBBPF_DEBUG {
                LibBPFLog.shared.append(trimmed)
            }
            return 0
        }
    }

    /// Installs the print hook; call before any other libbpf call.
    static func install() { _ = shared }

    private func append(_ line: String) {
        lines.withLock {
            $0.append(line)
            if $0.count > 200 { $0.removeFirst($0.count - 200) }
        }
    }

    /// Returns and forgets what was collected.
    func drain() -> [String] {
        lines.withLock { collected in
            defer { collected.removeAll() }
            return collected
        }
    }
}
