import Foundation
import Synchronization

/// Supplies the bearer token for each request. A token file is re-read whenever its
/// modification time or size changes, and after a 401, so a rotated token is used without a restart.
public final class TokenSource: Sendable {
    private struct Cache {
        var token: String?
        var stamp: FileStamp?
    }

    private struct FileStamp: Equatable {
        var modified: Date
        var size: Int
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
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let stamp = FileStamp(
                modified: attributes?[.modificationDate] as? Date ?? .distantPast,
                size: (attributes?[.size] as? NSNumber)?.intValue ?? -1)
            if let cached = cache.withLock({ $0.stamp == stamp ? $0.token : nil }) { return cached }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubeConfigurationError(code: .unreadableFile, message: "cannot read token file \(path)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
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
