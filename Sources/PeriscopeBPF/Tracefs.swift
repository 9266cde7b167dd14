#if canImport(Glibc)
import Glibc
#endif

/// Tracepoint attachment needs tracefs; fresh hosts often do not mount it.
public enum Tracefs {
    public static let path = "/sys/kernel/tracing"

    /// True when tracepoint ids can be read.
    public static var isMounted: Bool {
        access(path + "/events/syscalls", F_OK) == 0
    }

    /// Mounts tracefs at `/sys/kernel/tracing` unless it already is.
    /// - Returns: true if this call mounted it.
    @discardableResult
    public static func ensureMounted() throws(BPFError) -> Bool {
        if isMounted { return false }
        if mount("tracefs", path, "tracefs", 0, nil) != 0 {
            throw BPFError(
                .tracefsUnavailable,
                "tracefs is not mounted at \(path) and mounting it failed; mount it (`mount -t tracefs tracefs \(path)`) or run as root",
                errno: errno
            )
        }
        return true
    }
}
