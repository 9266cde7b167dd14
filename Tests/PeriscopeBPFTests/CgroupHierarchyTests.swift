import PeriscopeBPF
import Testing

/// Where the socket program attaches: the cgroup v2 hierarchy the agent was pointed at, or the
/// `unified` one inside it on a host with a hybrid hierarchy.
@Suite struct CgroupHierarchyTests {
    static let hybrid = """
        tmpfs /host/sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0
        cgroup2 /host/sys/fs/cgroup/unified cgroup2 ro,nosuid,nodev,noexec,relatime 0 0
        cgroup /host/sys/fs/cgroup/cpu cgroup ro,nosuid,nodev,noexec,relatime,cpu 0 0
        """
    static let unifiedOnly = "cgroup2 /host/sys/fs/cgroup cgroup2 ro,nosuid,nodev,noexec,relatime 0 0\n"

    @Test func aHybridHostsUnifiedHierarchyIsTakenForItsCgroupMount() {
        #expect(Propagation.cgroup2Hierarchy(at: "/host/sys/fs/cgroup", mounts: Self.hybrid) == "/host/sys/fs/cgroup/unified")
        #expect(Propagation.cgroup2Hierarchy(at: "/host/sys/fs/cgroup/", mounts: Self.hybrid) == "/host/sys/fs/cgroup/unified")
    }

    @Test func aCgroup2MountOrAnUnknownPathIsKeptAsGiven() {
        #expect(Propagation.cgroup2Hierarchy(at: "/host/sys/fs/cgroup", mounts: Self.unifiedOnly) == "/host/sys/fs/cgroup")
        #expect(Propagation.cgroup2Hierarchy(at: "/elsewhere", mounts: Self.hybrid) == "/elsewhere")
        #expect(Propagation.cgroup2MountPoint(mounts: Self.hybrid) == "/host/sys/fs/cgroup/unified")
    }
}
