import FoundationEssentials
import PeriscopeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Supplies the bearer token for each request. A token file is re-read whenever its
/// modification time or size changes, and after a 401, so a rotated token is used without a restart.
public final class TokenSource: Sendable {
    private struct Cache {
        var token: String?
        var stamp: FileStamp?
    }

    /// When a file last changed and how large it is (zero for one that cannot be read), to tell
    /// a rotated token from the cached one without reading it.
    private struct FileStamp: Equatable {
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
        var size: Int

        init(path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else {
                self.init(modifiedSeconds: 0, modifiedNanoseconds: 0, size: -1)
                return
            }
            self.init(
                modifiedSeconds: Int(status.st_mtim.tv_sec), modifiedNanoseconds: Int(status.st_mtim.tv_nsec), size: Int(status.st_size))
        }

        init(modifiedSeconds: Int, modifiedNanoseconds: Int, size: Int) {
            self.modifiedSeconds = modifiedSeconds
            self.modifiedNanoseconds = modifiedNanoseconds
            self.size = size
        }
    }

    private let credentials: KubeClientConfiguration.Credentials
    private let cache = Mutex(Cache())

    public init(_ credentials: KubeClientConfiguration.Credentials) {
        self.credentials = credentials
    }

    /// The current token, `nil` when the configuration has none.
    public func token() throws -> String? {
        switch credentials {
        case .none: return nil
        case .token(let token): return token
        case .tokenFile(let path):
            let stamp = FileStamp(path: path)
            if let cached = cache.withLock({ $0.stamp == stamp ? $0.token : nil }) { return cached }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubeConfigurationError(code: .unreadableFile, message: "cannot read token file \(path)")
            }
            let token = String(text.trimmingWhitespace())
            cache.withLock { $0 = Cache(token: token, stamp: stamp) }
            return token
        }
    }

    /// Forgets the cached token (after a 401) so the next request reads the file again.
    public func invalidate() {
        cache.withLock { $0 = Cache() }
    }

    public var isFileBased: Bool {
        if case .tokenFile = credentials { return true }
        return false
    }
}
