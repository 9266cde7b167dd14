import Foundation
import PeriscopeTestSupport

/// A container's cgroup, made by the test under the cgroup v2 mount the way a kubelet lays it
/// out, with processes moved into it. Removed (processes moved back to the root) on `remove()`.
final class KubeletCgroup {
    static let mount = "/sys/fs/cgroup/unified"

    enum Layout {
        /// `kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope`
        case systemd
        /// `kubepods/<qos>/pod<uid>/<id>`
        case cgroupfs
    }

    let path: String
    let containerID: String
    private let created: [String]

    init(layout: Layout, qos: String = "burstable", podUID: String, containerID: String = KubeletCgroup.randomContainerID()) throws {
        guard FileManager.default.fileExists(atPath: "\(Self.mount)/cgroup.procs") else {
            throw TestFailure("no cgroup v2 hierarchy at \(Self.mount): the Kubernetes end-to-end test needs it")
        }
        self.containerID = containerID
        let components: [String]
        switch layout {
        case .systemd:
            let uid = podUID.replacingOccurrences(of: "-", with: "_")
            components = ["kubepods.slice", "kubepods-\(qos).slice", "kubepods-\(qos)-pod\(uid).slice", "cri-containerd-\(containerID).scope"]
        case .cgroupfs:
            components = ["kubepods", qos, "pod\(podUID)", containerID]
        }
        var made: [String] = []
        var current = Self.mount
        for component in components {
            current += "/" + component
            if !FileManager.default.fileExists(atPath: current) {
                guard mkdir(current, 0o755) == 0 else { throw TestFailure("mkdir \(current): \(String(cString: strerror(errno)))") }
                made.append(current)
            }
        }
        path = current
        created = made
    }

    static func randomContainerID() -> String {
        (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
    }

    func add(pid: Int32) throws {
        try "\(pid)\n".write(toFile: "\(path)/cgroup.procs", atomically: false, encoding: .utf8)
    }

    /// Moves what is left back to the root and removes the directories this cgroup created.
    func remove() {
        let procs = (try? String(contentsOfFile: "\(path)/cgroup.procs", encoding: .utf8)) ?? ""
        for pid in procs.split(separator: "\n") {
            try? "\(pid)\n".write(toFile: "\(Self.mount)/cgroup.procs", atomically: false, encoding: .utf8)
        }
        for directory in created.reversed() { rmdir(directory) }
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "periscope-k8s-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
