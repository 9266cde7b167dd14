/// The pod and container a process belongs to, read from the cgroup path the kubelet
/// and the container runtime gave it (`/proc/<pid>/cgroup`).
///
/// Recognised layouts, under any prefix (nested runtimes, kind, `kubelet.slice`):
/// - cgroupfs driver: `/kubepods/<qos>/pod<uid>/<id>` and `/kubepods/pod<uid>/<id>` (Guaranteed);
/// - systemd driver: `[kubelet-]kubepods-<qos>-pod<uid_with_underscores>.slice/<runtime>-<id>.scope`
///   with `<runtime>` one of `cri-containerd`, `crio`, `docker`, and the
///   `…pod<uid>.slice:cri-containerd:<id>` form containerd writes itself.
///
/// Both cgroup v2 (`0::<path>`) and v1 (`<n>:<controllers>:<path>`) lines are read; the v2
/// line wins when it names a container. The file belongs to another process and may be
/// anything: unknown layouts, short or non-hex IDs and malformed UIDs yield nil.
public struct CgroupContainer: Sendable, Hashable {
    /// The pod's `metadata.uid`, with dashes (`0f2c…-…`).
    public var podUID: String
    /// The runtime's container ID: 64 lowercase hex digits.
    public var containerID: String

    public init(podUID: String, containerID: String) {
        self.podUID = podUID
        self.containerID = containerID
    }

    /// The longest `/proc/<pid>/cgroup` content looked at.
    public static let maximumFileBytes = 16 * 1024

    /// Parses the content of `/proc/<pid>/cgroup`.
    public init?(cgroupFile: String) {
        guard cgroupFile.utf8.count <= Self.maximumFileBytes else { return nil }
        var fromV1: CgroupContainer?
        for line in cgroupFile.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            guard let found = CgroupContainer(cgroupPath: fields[2]) else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                self = found
                return
            }
            if fromV1 == nil { fromV1 = found }
        }
        guard let fromV1 else { return nil }
        self = fromV1
    }

    /// Parses one cgroup path, e.g. `/kubepods/burstable/pod<uid>/<id>`.
    public init?(cgroupPath: some StringProtocol) {
        let components = Substring(cgroupPath).split(separator: "/", omittingEmptySubsequences: true)
        guard components.count >= 2, components.contains(where: { $0.suffix(afterLast: "kubepods") != nil }) else { return nil }
        let last = components[components.count - 1]
        let parent = components[components.count - 2]
        // containerd with the systemd driver but its own naming: `…pod<uid>.slice:cri-containerd:<id>`.
        if let found = Self.containerdColonForm(last) {
            self = found
            return
        }
        guard let uid = Self.podUID(parent), let id = Self.containerID(last) else { return nil }
        self.init(podUID: uid, containerID: id)
    }

    /// `containerd://<id>`, `cri-o://<id>`, `docker://<id>` or a bare ID → the bare ID, lowercased;
    /// nil when what remains is not 64 hex digits.
    public static func normalizedID(_ runtimeID: String) -> String? {
        let lowered = runtimeID.lowercased()
        let bare = lowered.suffix(afterLast: "://") ?? lowered[...]
        return isContainerID(bare) ? String(bare) : nil
    }

    static func containerdColonForm(_ component: Substring) -> CgroupContainer? {
        let parts = component.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "cri-containerd", parts[0].hasSuffix(".slice"),
            let uid = podUID(parts[0]), isContainerID(parts[2])
        else { return nil }
        return CgroupContainer(podUID: uid, containerID: String(parts[2]))
    }

    /// `pod<uid>` (cgroupfs) or `kubepods[-<qos>]-pod<uid_with_underscores>.slice` (systemd).
    static func podUID(_ component: Substring) -> String? {
        var text = component
        if text.hasSuffix(".slice") {
            text = text.dropLast(".slice".count)
            guard text.suffix(afterLast: "kubepods") != nil, let uid = text.suffix(afterLast: "-pod") else { return nil }
            text = uid
        } else {
            guard text.hasPrefix("pod") else { return nil }
            text = text.dropFirst(3)
        }
        let uid = String(text).replacingUnderscores()
        return isUID(uid) ? uid : nil
    }

    /// `<id>` (cgroupfs) or `cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope` (systemd).
    static func containerID(_ component: Substring) -> String? {
        var text = component
        if text.hasSuffix(".scope") {
            text = text.dropLast(".scope".count)
            var matched = false
            for prefix in ["cri-containerd-", "crio-", "docker-"] where text.hasPrefix(prefix) {
                text = text.dropFirst(prefix.count)
                matched = true
                break
            }
            guard matched else { return nil }
        }
        return isContainerID(text) ? String(text) : nil
    }

    static func isContainerID(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// 8-4-4-4-12 hex digits (either case) separated by dashes.
    static func isUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.utf8.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.utf8.allSatisfy(\.isASCIIHexDigit) }
    }
}

extension UInt8 {
    fileprivate var isASCIIHexDigit: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x61 && self <= 0x66) || (self >= 0x41 && self <= 0x46)
    }
}

extension StringProtocol {
    /// What follows the last occurrence of `separator`, or nil when it does not occur.
    fileprivate func suffix(afterLast separator: String) -> SubSequence? {
        let needle = Array(separator.utf8)
        let bytes = Array(utf8)
        guard bytes.count >= needle.count else { return nil }
        for start in stride(from: bytes.count - needle.count, through: 0, by: -1)
        where bytes[start..<start + needle.count].elementsEqual(needle) {
            let index = utf8.index(utf8.startIndex, offsetBy: start + needle.count)
            return self[index...]
        }
        return nil
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
