#if canImport(Glibc)
import Glibc
#endif

/// A failure of the kernel side: what failed, why, and what to do about it.
public struct BPFError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case objectMissing
        case openFailed
        case loadFailed
        case attachFailed
        case mapFailed
        case ringBufferFailed
        case tracefsUnavailable
    }

    public var code: Code
    public var message: String
    /// errno of the failing call, if any.
    public var errno: Int32?
    /// What libbpf said while it failed, most recent last.
    public var libbpfLog: [String]

    public init(_ code: Code, _ message: String, errno: Int32? = nil, libbpfLog: [String] = []) {
        self.code = code
        self.message = message
        self.errno = errno
        self.libbpfLog = libbpfLog
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let errno {
            text += " (\(String(cString: strerror(errno))), errno \(errno))"
        }
        if !libbpfLog.isEmpty {
            text += "\nlibbpf: " + libbpfLog.suffix(20).joined(separator: "\nlibbpf: ")
        }
        return text
    }
}

/// Runs a libbpf call returning 0 or `-errno`, turning failure into a `BPFError`.
@discardableResult
func libbpfCall(_ code: BPFError.Code, _ what: @autoclosure () -> String, _ body: () -> Int32) throws(BPFError) -> Int32 {
    let result = body()
    if result < 0 {
        throw BPFError(code, what(), errno: -result, libbpfLog: LibBPFLog.shared.drain())
    }
    return result
}
