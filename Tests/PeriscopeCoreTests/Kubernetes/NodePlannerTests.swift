import Testing
@testable import PeriscopeCore

@Suite struct NodePlannerTests {
    static func id(_ digit: Character) -> String { String(repeating: digit, count: 64) }
    static let uidA = "aaaaaaaa-0000-0000-0000-000000000001"
    static let uidB = "bbbbbbbb-0000-0000-0000-000000000002"

    static let targets = [
        PodTarget(uid: uidA, namespace: "shop", name: "web-1", owner: .init(kind: "Deployment", name: "web"), policy: "all",
                  containers: [.init(name: "app", id: "containerd://\(id("a"))")]),
        PodTarget(uid: uidB, namespace: "pay", name: "api-0", owner: .init(kind: "StatefulSet", name: "api"), policy: "api",
                  containers: [.init(name: "server", id: "cri-o://\(id("b"))")]),
    ]

    static func policy(_ yaml: String) throws -> Policy { try Policy.parse(yaml: yaml) }

    @Test func tracesProcessesOfTargetContainersOnlyAndDecoratesThem() throws {
        let planner = NodePlanner(nodeName: "node-a", targets: Self.targets, policies: [
            "shop/all": try Self.policy("ports: [{port: 8080}]\nresourceAttributes: {env: prod}"),
            "pay/api": try Self.policy("ports: [{port: 9000}]"),
        ])
        let processes = [
            ProcessEntry(pid: 10, ppid: 1, executable: "/usr/bin/web"),
            ProcessEntry(pid: 11, ppid: 10, executable: "/usr/bin/web"),
            ProcessEntry(pid: 20, ppid: 1, executable: "/usr/bin/api"),
            ProcessEntry(pid: 30, ppid: 1, executable: "/usr/bin/other"),
            ProcessEntry(pid: 40, ppid: 1, executable: "/usr/bin/stale"),
        ]
        let plan = planner.plan(processes: processes, containers: [
            10: .init(podUID: Self.uidA, containerID: Self.id("a")),
            11: .init(podUID: Self.uidA, containerID: Self.id("a")),
            20: .init(podUID: Self.uidB, containerID: Self.id("b")),
            30: .init(podUID: Self.uidA, containerID: Self.id("c")),
            // Same container ID under another pod UID: not the target.
            40: .init(podUID: Self.uidB, containerID: Self.id("a")),
        ])
        #expect(plan.policy.pids.sorted() == [10, 11, 20])
        #expect(plan.policy.ports == PortSet([8080...8080, 9000...9000]))
        #expect(plan.decorations[10]?.attributes["k8s.deployment.name"] == "web")
        #expect(plan.decorations[10]?.attributes["env"] == "prod")
        #expect(plan.decorations[20]?.attributes["k8s.statefulset.name"] == "api")
        #expect(plan.decorations[20]?.attributes["k8s.container.name"] == "server")
        #expect(plan.decorations[20]?.attributes["env"] == nil)
        #expect(plan.decorations[20]?.attributes["k8s.node.name"] == "node-a")
        #expect(plan.processCount == 3)
        // The plan says who follows which policy, by name; the agent takes that as it is.
        #expect(plan.policies.names == ["pay/api", "shop/all"])
        #expect(plan.policies.owners == [10: 1, 11: 1, 20: 0])
        var assignment = PolicyAssignment(policies: plan.policies)
        assignment.assign(processes: processes, agentPID: 1)
        #expect(assignment.owners == [10: 1, 11: 1, 20: 0])
        #expect(plan.policies.id(ofOwner: assignment.owner(of: 11)) == PolicyID(name: "shop/all"))
        #expect(plan.policies.id(ofOwner: assignment.owner(of: 30)) == nil, "a process no policy claims belongs to none")
        // A child forked since the plan follows its parent's policy until the next plan names it.
        assignment.update(with: ProcessEntry(pid: 12, ppid: 11, executable: "/usr/bin/web"))
        #expect(assignment.owner(of: 12) == 1)
        assignment.update(with: ProcessEntry(pid: 31, ppid: 30, executable: "/usr/bin/other"))
        #expect(assignment.owner(of: 31) == nil)
        assignment.remove(pid: 12)
        #expect(assignment.owner(of: 12) == nil)
    }

    @Test func noTargetProcessSelectsNothingRatherThanEverything() throws {
        let planner = NodePlanner(nodeName: "n", targets: Self.targets, policies: ["shop/all": Policy()])
        let plan = planner.plan(processes: [ProcessEntry(pid: 5, ppid: 1, executable: "/x")], containers: [:])
        #expect(plan.policy.pids == [NodePlan.noProcess])
        let selection = ProcessSelector.select(processes: [ProcessEntry(pid: 5, ppid: 1, executable: "/x")], policy: plan.policy, selfPID: 99)
        #expect(!selection.allProcesses)
        #expect(!selection.isSelected(pid: 5))
        #expect(NodePlanner(nodeName: "n", targets: [], policies: [:]).plan(processes: [], containers: [:]).policy.pids == [NodePlan.noProcess])
    }

    @Test func targetsWhosePolicyIsMissingAreIgnored() {
        let planner = NodePlanner(nodeName: "n", targets: Self.targets, policies: ["pay/api": Policy()])
        let plan = planner.plan(
            processes: [ProcessEntry(pid: 10, ppid: 1, executable: "/w")],
            containers: [10: .init(podUID: Self.uidA, containerID: Self.id("a"))])
        #expect(plan.decorations.isEmpty)
    }

    @Test func executablesOfAPolicyNarrowItsOwnPodsOnly() throws {
        let planner = NodePlanner(nodeName: "n", targets: Self.targets, policies: [
            "shop/all": try Self.policy("executables: ['*nginx*']"), "pay/api": Policy(),
        ])
        let plan = planner.plan(
            processes: [
                ProcessEntry(pid: 10, ppid: 1, executable: "/usr/sbin/nginx"), ProcessEntry(pid: 11, ppid: 1, executable: "/bin/sh"),
                ProcessEntry(pid: 30, ppid: 1, executable: "/usr/sbin/nginx"),
            ],
            containers: [
                10: .init(podUID: Self.uidA, containerID: Self.id("a")), 11: .init(podUID: Self.uidA, containerID: Self.id("a")),
            ])
        #expect(plan.policy.pids == [10])
        #expect(plan.policy.executables.isEmpty)
    }

    /// Tenant isolation: what one namespace's policy selects or excludes by pid or executable
    /// applies among its own pods' processes; another namespace's processes are untouched.
    @Test func aPolicysSelectorsAndExclusionsStayWithinItsOwnPods() throws {
        let planner = NodePlanner(nodeName: "n", targets: Self.targets, policies: [
            "shop/all": try Self.policy("exclude: {pids: [20], executables: [\"*api*\", \"*health*\"]}"),
            "pay/api": try Self.policy("pids: [20]"),
        ])
        let processes = [
            ProcessEntry(pid: 10, ppid: 1, executable: "/usr/bin/web"),
            ProcessEntry(pid: 11, ppid: 10, executable: "/usr/bin/healthcheck"),
            ProcessEntry(pid: 12, ppid: 11, executable: "/usr/bin/sh"),
            ProcessEntry(pid: 20, ppid: 1, executable: "/usr/bin/api"),
            ProcessEntry(pid: 21, ppid: 20, executable: "/usr/bin/api-worker"),
            ProcessEntry(pid: 22, ppid: 1, executable: "/usr/bin/sidecar"),
        ]
        let plan = planner.plan(processes: processes, containers: [
            10: .init(podUID: Self.uidA, containerID: Self.id("a")),
            11: .init(podUID: Self.uidA, containerID: Self.id("a")),
            12: .init(podUID: Self.uidA, containerID: Self.id("a")),
            20: .init(podUID: Self.uidB, containerID: Self.id("b")),
            21: .init(podUID: Self.uidB, containerID: Self.id("b")),
            22: .init(podUID: Self.uidB, containerID: Self.id("b")),
        ])
        // shop excludes its healthcheck (and what it runs); its exclusion of pid 20 and of "*api*" reaches nothing of pay's.
        #expect(plan.policies.policies[1].pids == [10])
        // pay traces pid 20 with its descendants, not its sidecar.
        #expect(plan.policies.policies[0].pids == [20, 21])
        #expect(plan.policy.exclude.pids.isEmpty && plan.policy.exclude.executables.isEmpty, "nothing excluded node-wide")
        #expect(plan.policy.pids.sorted() == [10, 20, 21])
    }

    @Test func eachPodKeepsTheDecodersOfItsOwnPolicy() throws {
        let planner = NodePlanner(nodeName: "n", targets: Self.targets, policies: [
            "shop/all": try Self.policy("protocols: [tcp]"), "pay/api": try Self.policy("protocols: [http]"),
            "other/unused": try Self.policy("ports: [1]"),
        ])
        let processes = [ProcessEntry(pid: 10, ppid: 1, executable: "/w"), ProcessEntry(pid: 20, ppid: 1, executable: "/a")]
        let plan = planner.plan(processes: processes, containers: [
            10: .init(podUID: Self.uidA, containerID: Self.id("a")), 20: .init(podUID: Self.uidB, containerID: Self.id("b")),
        ])
        #expect(plan.policies.policies.map(\.pids) == [[20], [10]], "by namespace and name; a policy without processes here is left out")
        #expect(plan.policy.ports.isEmpty && plan.policy.protocols == [.http, .tcp])
        var assignment = PolicyAssignment(policies: plan.policies)
        assignment.assign(processes: processes, agentPID: 99)
        #expect(assignment.protocolOverrides == [10: [.tcp], 20: [.http]])
        #expect(assignment.owners == [20: 0, 10: 1])
    }

    @Test func mergingTakesTheUnionOfPortsAndAllPortsWhenAnyPolicyHasNone() throws {
        let a = try Self.policy("ports: [{port: 80}]\nprotocols: [http]\nexclude: {routes: [/healthz]}\ncapture: {payloadBytes: 512}")
        let b = try Self.policy("ports: [{port: 81}]\nprotocols: [tcp]\nexclude: {routes: [/metrics, /healthz]}\ncapture: {payloadBytes: 4096, keepQuery: true}")
        let merged = PolicySet([a, b]).merged
        #expect(merged.ports == PortSet([80...81]))
        #expect(merged.protocols == [.http, .tcp])
        #expect(merged.exclude.routes.map(\.pattern) == ["/healthz", "/metrics"])
        #expect(merged.capture.payloadBytes == 4096)
        #expect(merged.capture.keepQuery)
        #expect(PolicySet([a, Policy()]).merged.ports.isEmpty)
    }
}
