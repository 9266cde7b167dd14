import Testing
import PeriscopeCore

@Suite struct ProcessSelectorTests {
    static let agent: Int32 = 300
    static let tree = [
        ProcessEntry(pid: 1, ppid: 0, executable: "/usr/lib/systemd/systemd"),
        ProcessEntry(pid: 2, ppid: 0, executable: nil),
        ProcessEntry(pid: 100, ppid: 1, executable: "/usr/sbin/nginx"),
        ProcessEntry(pid: 101, ppid: 100, executable: "/usr/sbin/nginx"),
        ProcessEntry(pid: 200, ppid: 1, executable: "/bin/bash"),
        ProcessEntry(pid: 201, ppid: 200, executable: "/usr/bin/python3.11"),
        ProcessEntry(pid: 202, ppid: 201, executable: "/usr/local/bin/healthcheck"),
        ProcessEntry(pid: 203, ppid: 202, executable: "/usr/bin/curl"),
        ProcessEntry(pid: 204, ppid: 201, executable: "/usr/bin/python3.11"),
        ProcessEntry(pid: 300, ppid: 1, executable: "/usr/bin/periscope-agent"),
        ProcessEntry(pid: 301, ppid: 300, executable: "/usr/bin/mount"),
        ProcessEntry(pid: 400, ppid: 1, executable: "/usr/local/bin/envoy"),
        ProcessEntry(pid: 401, ppid: 400, executable: "/bin/sh"),
    ]

    func select(_ yaml: String, _ processes: [ProcessEntry] = tree) throws -> ProcessSelection {
        ProcessSelector(policy: try Policy.parse(yaml: yaml), agentPID: Self.agent).select(processes)
    }

    @Test func noPIDsOrExecutablesSelectsEveryProcessButTheAgent() throws {
        let selection = try select("ports: [80]")
        #expect(selection.allProcesses)
        #expect(selection.excluded == [300, 301])
        #expect(selection.isSelected(pid: 100))
        #expect(selection.isSelected(pid: 99999))
        #expect(!selection.isSelected(pid: 300))
        #expect(!selection.isSelected(pid: 301))
    }

    @Test func pidsSelectThemAndAllTheirDescendants() throws {
        let selection = try select("pids: [200]")
        #expect(!selection.allProcesses)
        #expect(selection.targets == [200, 201, 202, 203, 204])
        #expect(!selection.isSelected(pid: 100))
    }

    @Test func executablesSelectMatchingProcessesOnly() throws {
        let selection = try select("executables: [nginx, \"*envoy*\"]")
        #expect(selection.targets == [100, 101, 400])
        #expect(!selection.isSelected(pid: 401))
    }

    @Test func pidsAndExecutablesAddUp() throws {
        #expect(try select("pids: [400]\nexecutables: [\"python3*\"]").targets == [201, 204, 400, 401])
    }

    @Test func exclusionsWinAndCoverDescendants() throws {
        let selection = try select("""
            pids: [1]
            exclude: {pids: [100], executables: ["*healthcheck*"]}
            """)
        #expect(selection.excluded == [100, 101, 202, 203, 300, 301])
        #expect(selection.targets == [1, 200, 201, 204, 400, 401])
        #expect(selection.targets.isDisjoint(with: selection.excluded))
    }

    @Test func excludedPIDsAreKeptEvenBeforeTheyExist() throws {
        let selection = try select("exclude: {pids: [4242]}", [])
        #expect(selection.excluded == [4242, 300])
        #expect(!selection.isSelected(pid: 4242))
    }

    @Test func targetPIDsAreKeptEvenBeforeTheyExist() throws {
        #expect(try select("pids: [4242]", []).targets == [4242])
    }

    @Test func theAgentIsNeverTargetedEvenWhenListed() throws {
        let selection = try select("pids: [1]\nexecutables: [\"periscope-*\"]")
        #expect(!selection.isSelected(pid: 300))
        #expect(!selection.isSelected(pid: 301))
        #expect(selection.isSelected(pid: 1))
    }

    @Test func hostileProcessTablesTerminate() throws {
        var processes = Self.tree
        processes += [
            ProcessEntry(pid: 500, ppid: 501, executable: "/bin/a"),
            ProcessEntry(pid: 501, ppid: 500, executable: "/bin/b"),
            ProcessEntry(pid: 502, ppid: 501, executable: "/bin/c"),
            ProcessEntry(pid: 600, ppid: 600, executable: "/bin/self"),
            ProcessEntry(pid: 601, ppid: 600, executable: nil),
            ProcessEntry(pid: 700, ppid: 9999, executable: "/bin/orphan"),
            ProcessEntry(pid: 100, ppid: 101, executable: "/usr/sbin/nginx"),
            ProcessEntry(pid: -5, ppid: -5, executable: ""),
            ProcessEntry(pid: 0, ppid: 0, executable: "/"),
        ]
        let selection = try select("pids: [500, 600, 9999]\nexclude: {pids: [101]}", processes)
        #expect(selection.targets == [500, 501, 502, 600, 601, 700, 9999])
        #expect(selection.excluded.isSuperset(of: [101, 100, 300, 301]))
        let excludedCycle = try select("exclude: {pids: [500]}", processes)
        #expect(excludedCycle.excluded.isSuperset(of: [500, 501, 502]))
    }

    @Test func longChainsDoNotRecurse() throws {
        let chain = (1...100_000).map { ProcessEntry(pid: Int32($0), ppid: Int32($0 - 1), executable: "/bin/sh") }
        let selection = ProcessSelector(policy: Policy(pids: [1]), agentPID: 999_999).select(chain)
        #expect(selection.targets.count == 100_000)
    }
}
