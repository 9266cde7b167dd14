import Testing
@testable import PeriscopeCore

@Suite struct PolicySetTests {
    static let twoPolicies = """
        # nginx and the backend speak HTTP; haproxy relays bytes
        executables: ["*nginx*", "*python*"]
        ports: [8080]
        ---
        executables: ["*haproxy*"]
        protocols: [tcp]
        ports: [{port: 9000, endPort: 9001}]
        exclude: {executables: ["*healthcheck*"]}
        """

    @Test func everyDocumentOfAFileIsAPolicyInFileOrder() throws {
        let policies = try Policy.parseDocuments(yaml: Self.twoPolicies)
        #expect(policies.count == 2)
        #expect(policies.map(\.protocols) == [Set(TracedProtocol.allCases), [.tcp]])
        #expect(policies[1].executables.map(\.pattern) == ["*haproxy*"])
    }

    @Test(arguments: ["", "# nothing\n", "---\n", "---\n---\n"])
    func textWithoutPoliciesIsOneDefaultPolicy(yaml: String) throws {
        #expect(try Policy.parseDocuments(yaml: yaml) == [Policy()])
    }

    @Test(arguments: ["ports: [80]\n---\n", "---\nports: [80]\n", "ports: [80]\n---\n---\n", "---\n---\nports: [80]\n..."])
    func strayDocumentMarkersAddNoPolicyThatTracesEverything(yaml: String) throws {
        let policies = try Policy.parseDocuments(yaml: yaml)
        #expect(policies.count == 1)
        #expect(PolicySet(policies).merged.ports == PortSet([80...80]))
    }

    @Test func anExplicitEmptyMappingIsStillAPolicy() throws {
        #expect(try Policy.parseDocuments(yaml: "ports: [80]\n---\n{}\n").count == 2)
    }

    @Test func oneDocumentReadsAsParseDoes() throws {
        let yaml = "ports: [80]\nprotocols: [http]\n"
        #expect(try Policy.parseDocuments(yaml: yaml) == [try Policy.parse(yaml: yaml)])
    }

    @Test func anErrorNamesTheDocumentItIsIn() {
        #expect(throws: PolicyError.self) { try Policy.parseDocuments(yaml: "ports: [80]\n---\nports: [70000]\n") }
        do {
            _ = try Policy.parseDocuments(yaml: "ports: [80]\n---\nports: [70000]\n")
        } catch {
            #expect(error.document == 2)
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("document 2 of the file: spec.ports[0]: 70000 is not allowed"), "\(error)")
        }
        do {
            _ = try Policy.parseDocuments(yaml: "ports: [70000]\n")
        } catch {
            #expect(error.document == nil, "a single policy needs no number")
        }
    }

    @Test func mergedSelectsEveryPolicysProcessesAndPorts() throws {
        let set = PolicySet(try Policy.parseDocuments(yaml: Self.twoPolicies))
        #expect(set.merged.executables.map(\.pattern) == ["*nginx*", "*python*", "*haproxy*"])
        #expect(set.merged.ports == PortSet([8080...8080, 9000...9001]))
        #expect(set.merged.protocols == Set(TracedProtocol.allCases))
        #expect(set.merged.exclude.executables.map(\.pattern) == ["*healthcheck*"])
    }

    @Test func aPolicySelectingByPortOnlyMakesTheMergedOneSelectEveryProcess() throws {
        let set = PolicySet([try Policy.parse(yaml: "pids: [7]"), try Policy.parse(yaml: "ports: [80]")])
        #expect(set.merged.pids.isEmpty && set.merged.executables.isEmpty)
        #expect(set.merged.ports.isEmpty, "the first policy traces every port of its processes")
    }

    @Test func firstPolicyWinsSamplerExportAndAttributeKeys() throws {
        let set = PolicySet([
            try Policy.parse(yaml: "sampling: {sampler: always_off}\nresourceAttributes: {env: prod}"),
            try Policy.parse(yaml: "sampling: {sampler: always_on}\nresourceAttributes: {env: dev, team: a}"),
        ])
        #expect(set.merged.sampler == .alwaysOff)
        #expect(set.merged.resourceAttributes == ["env": "prod", "team": "a"])
    }

    @Test func noPoliciesIsTheDefaultPolicy() {
        #expect(PolicySet([]).policies == [Policy()])
        #expect(PolicySet([]).merged == Policy())
    }

    @Test func eachProcessGetsTheDecodersOfTheFirstPolicySelectingIt() throws {
        let set = PolicySet(try Policy.parseDocuments(yaml: Self.twoPolicies))
        var assignment = PolicyAssignment(policies: set)
        assignment.assign(processes: [
            ProcessEntry(pid: 10, ppid: 1, executable: "/usr/sbin/nginx"),
            ProcessEntry(pid: 20, ppid: 1, executable: "/usr/sbin/haproxy"),
            ProcessEntry(pid: 30, ppid: 1, executable: "/usr/bin/python3"),
            ProcessEntry(pid: 40, ppid: 1, executable: "/usr/bin/redis-server"),
        ], agentPID: 99)
        #expect(assignment.protocolOverrides == [20: [.tcp]])
        #expect(assignment.owners == [10: 0, 20: 1, 30: 0])
        #expect(assignment.owner(of: 40) == nil, "no policy selects it")

        assignment.update(with: ProcessEntry(pid: 21, ppid: 20, executable: "/usr/sbin/haproxy"))
        #expect(assignment.protocolOverrides[21] == [.tcp] && assignment.owner(of: 21) == 1)
        assignment.update(with: ProcessEntry(pid: 20, ppid: 1, executable: "/usr/bin/python3"))
        #expect(assignment.protocolOverrides[20] == nil, "after exec the process belongs to the first policy")
        #expect(assignment.owner(of: 20) == 0)
        assignment.remove(pid: 21)
        #expect(assignment.protocolOverrides.isEmpty && assignment.owner(of: 21) == nil)
    }

    @Test func eachProcessIsTracedOnlyOnThePortsOfThePoliciesSelectingIt() throws {
        // One policy names a process (every port of it), one selects a port (every process
        // on it): the kernel then lets every port of every process through.
        let set = PolicySet(try Policy.parseDocuments(yaml: "pids: [10]\n---\nports: [8080, 9000]\n---\nexecutables: [\"*redis*\"]\nports: [6379]"))
        #expect(set.merged.ports.isEmpty && set.merged.pids.isEmpty)
        var assignment = PolicyAssignment(policies: set)
        assignment.assign(processes: [
            ProcessEntry(pid: 10, ppid: 1, executable: "/usr/bin/python3"),
            ProcessEntry(pid: 20, ppid: 1, executable: "/usr/bin/curl"),
            ProcessEntry(pid: 30, ppid: 1, executable: "/usr/bin/redis-server"),
        ], agentPID: 99)
        #expect(assignment.portOverrides[10] == nil, "its own policy traces every port")
        #expect(assignment.portOverrides[20] == PortSet([8080...8080, 9000...9000]))
        #expect(assignment.portOverrides[30] == PortSet([6379...6379, 8080...8080, 9000...9000]), "the union of the policies selecting it")
        assignment.update(with: ProcessEntry(pid: 11, ppid: 10, executable: "/usr/bin/python3"))
        #expect(assignment.portOverrides[11] == nil, "a child of the named process follows it")
        assignment.update(with: ProcessEntry(pid: 20, ppid: 1, executable: "/usr/bin/redis-cli"))
        #expect(assignment.portOverrides[20] == PortSet([6379...6379, 8080...8080, 9000...9000]))
        assignment.remove(pid: 20)
        #expect(assignment.portOverrides[20] == nil)

        // With the node plan's owners, a process follows its owner's ports.
        var planned = PolicyAssignment(policies: PolicySet(set.policies, owners: [10: 1, 30: 0]))
        planned.assign(processes: [
            ProcessEntry(pid: 10, ppid: 1, executable: "/usr/bin/python3"),
            ProcessEntry(pid: 30, ppid: 1, executable: "/usr/bin/redis-server"),
            ProcessEntry(pid: 40, ppid: 1, executable: "/bin/sh"),
        ], agentPID: 99)
        #expect(planned.portOverrides == [10: PortSet([8080...8080, 9000...9000])], "no policy's own: the merged policy's")
    }

    @Test func policiesThatAgreeOnDecodersOverrideNone() throws {
        var assignment = PolicyAssignment(policies: PolicySet([try Policy.parse(yaml: "pids: [1]"), try Policy.parse(yaml: "pids: [2]")]))
        assignment.assign(processes: [ProcessEntry(pid: 1, ppid: 0, executable: "/a")], agentPID: 99)
        assignment.update(with: ProcessEntry(pid: 2, ppid: 1, executable: "/b"))
        #expect(assignment.protocolOverrides.isEmpty)
        #expect(assignment.owners == [1: 0, 2: 0], "a child of a listed pid follows its parent's policy")
    }

    @Test func onePolicyTracksNothing() throws {
        var assignment = PolicyAssignment(policies: PolicySet(try Policy.parse(yaml: "pids: [1]\nprotocols: [tcp]")))
        assignment.assign(processes: [ProcessEntry(pid: 1, ppid: 0, executable: "/a")], agentPID: 99)
        #expect(!assignment.isTracking && assignment.owners.isEmpty && assignment.owner(of: 1) == nil)
    }
}
