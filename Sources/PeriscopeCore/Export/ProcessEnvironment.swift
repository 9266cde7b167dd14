/// Reads variables out of the bytes of `/proc/<pid>/environ`: `NAME=value` entries
/// separated by NUL. The bytes come from another process and may be anything.
public enum ProcessEnvironment {
    /// The value of `name` in `environ`, or nil when absent or not UTF-8. The first
    /// occurrence wins, as `getenv` has it.
    public static func value(of name: String, in environ: some Collection<UInt8>) -> String? {
        let key = Array(name.utf8) + [UInt8(ascii: "=")]
        for entry in environ.split(separator: 0, omittingEmptySubsequences: true) {
            guard entry.count >= key.count, entry.starts(with: key) else { continue }
            return String(validating: entry.dropFirst(key.count), as: UTF8.self)
        }
        return nil
    }
}
