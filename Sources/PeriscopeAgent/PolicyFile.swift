import PeriscopeCore
import PeriscopeSystem
#if canImport(Glibc)
import Glibc
#endif

/// The policy file on disk: read, parsed, and watched for changes by its identity
/// (device, inode, size, modification time), which also catches editors that replace the
/// file and ConfigMap updates that swap a symlink.
public struct PolicyFile: Sendable {
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var policyError: PolicyError?

        public var description: String {
            if let policyError { return "\(path): \(policyError)" }
            return "\(path): \(reason)"
        }
    }

    struct Signature: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var modifiedNanos: Int
    }

    public let path: String
    private(set) var signature: Signature?

    public init(path: String) {
        self.path = path
    }

    /// Reads and parses the file, remembering its identity. The file holds one policy, or
    /// several as YAML documents separated by `---`, highest precedence first.
    public mutating func load() throws(LoadError) -> PolicySet {
        signature = currentSignature()
        guard let contents = System.readFile(path, limit: (1 << 20) + 1) else {
            throw LoadError(path: path, reason: "cannot read: \(System.describe(errno: errno))")
        }
        guard contents.count <= 1 << 20 else {
            throw LoadError(path: path, reason: "larger than 1 MiB; a policy is a few lines of YAML")
        }
        let bytes = contents
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LoadError(path: path, reason: "not UTF-8 text")
        }
        do {
            let named = try Policy.parseNamedDocuments(yaml: text)
            return PolicySet(named.map(\.policy), names: named.map(\.name))
        } catch {
            throw LoadError(path: path, reason: "\(error)", policyError: error)
        }
    }

    /// True when the file is not what was last loaded.
    public func hasChanged() -> Bool {
        currentSignature() != signature
    }

    private func currentSignature() -> Signature? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Signature(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec), modifiedNanos: info.st_mtim.tv_nsec
        )
    }
}
