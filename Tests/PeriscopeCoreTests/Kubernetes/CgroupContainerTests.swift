import Testing
@testable import PeriscopeCore

@Suite struct CgroupContainerTests {
    static let id = "3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
    static let uid = "0f2c6a1e-5b7d-4c3a-9e8f-1a2b3c4d5e6f"
    static let underscored = "0f2c6a1e_5b7d_4c3a_9e8f_1a2b3c4d5e6f"

    @Test(arguments: [
        // cgroupfs driver, v2 and v1, each QoS class.
        "0::/kubepods/burstable/pod\(uid)/\(id)\n",
        "0::/kubepods/besteffort/pod\(uid)/\(id)\n",
        "0::/kubepods/pod\(uid)/\(id)\n",
        "12:pids:/kubepods/burstable/pod\(uid)/\(id)\n11:memory:/kubepods/burstable/pod\(uid)/\(id)\n0::/\n",
        // systemd driver: containerd, CRI-O, Docker; v2 and v1.
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(underscored).slice/cri-containerd-\(id).scope\n",
        "0::/kubepods.slice/kubepods-pod\(underscored).slice/crio-\(id).scope\n",
        "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(underscored).slice/docker-\(id).scope\n",
        "9:name=systemd:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(underscored).slice/cri-containerd-\(id).scope\n4:memory:/\n0::/\n",
        // Nested under a node container (kind) or kubelet.slice, and containerd's own systemd naming.
        "0::/system.slice/docker-abc.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod\(underscored).slice/cri-containerd-\(id).scope\n",
        "0::/system.slice/containerd.service/kubepods-burstable-pod\(underscored).slice:cri-containerd:\(id)\n",
        // Read from inside a container's own cgroup namespace: paths relative to it.
        "0::/../../kubepods-besteffort-pod\(underscored).slice/cri-containerd-\(id).scope\n",
    ])
    func findsPodAndContainerInEveryKubeletLayout(file: String) {
        #expect(CgroupContainer(cgroupFile: file) == CgroupContainer(podUID: Self.uid, containerID: Self.id))
    }

    @Test func prefersTheV2LineOverV1Lines() {
        let other = String(repeating: "a", count: 64)
        let file = "4:memory:/kubepods/pod\(Self.uid)/\(other)\n0::/kubepods/pod\(Self.uid)/\(Self.id)\n"
        #expect(CgroupContainer(cgroupFile: file)?.containerID == Self.id)
    }

    @Test(arguments: [
        "",
        "0::/\n",
        "0::/user.slice/user-1000.slice/session-1.scope\n",
        "0::/system.slice/containerd.service\n",
        // The pod's own cgroup, the pause sandbox's conmon, short or non-hex IDs, bad UIDs.
        "0::/kubepods/burstable/pod\(uid)\n",
        "0::/kubepods.slice/kubepods-pod\(underscored).slice/crio-conmon-\(id).scope\n",
        "0::/kubepods/burstable/pod\(uid)/\(id.dropLast())\n",
        "0::/kubepods/burstable/pod\(uid)/\(id.uppercased())\n",
        "0::/kubepods/burstable/pod\(uid)/\(id.dropLast())g\n",
        "0::/kubepods/burstable/podnot-a-uid/\(id)\n",
        "0::/kubepods/burstable/pod\(uid)x/\(id)\n",
        "0::/kubepods.slice/kubepods-pod\(underscored).slice/runc-\(id).scope\n",
        "0::/other/pod\(uid)/\(id)\n",
        "garbage without colons\n:::::\n\0\0\0",
        "0::/kubepods/burstable/pod\(uid)/\(id)/extra\n",
        "0::" + String(repeating: "/kubepods", count: 3000) + "\n",
    ])
    func rejectsOtherLayoutsAndHostileInput(file: String) {
        #expect(CgroupContainer(cgroupFile: file) == nil)
    }

    @Test(arguments: [
        ("containerd://\(id)", id as String?), ("cri-o://\(id)", id), ("docker://\(id.uppercased())", id), (id, id),
        ("containerd://", nil), ("containerd://abc", nil), ("", nil),
    ])
    func normalizesRuntimeContainerIDs(runtimeID: String, expected: String?) {
        #expect(CgroupContainer.normalizedID(runtimeID) == expected)
    }
}
