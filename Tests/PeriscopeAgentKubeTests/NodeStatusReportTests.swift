import PeriscopeAPI
import PeriscopeAgent
import PeriscopeCore
import PeriscopeKube
import Testing
@testable import PeriscopeAgentKube

@Suite struct NodeStatusReportTests {
    static func object(generation: Int64 = 3, policies: [NodeInstrumentation.PolicySettings], status: NodeInstrumentation.Status? = nil)
        -> NodeInstrumentation
    {
        var metadata = ObjectMeta(name: "node-a")
        metadata.generation = generation
        return NodeInstrumentation(metadata: metadata, spec: .init(nodeName: "node-a", policies: policies), status: status)
    }

    static func settings(_ name: String, sampler: String = "parentbased_always_on") -> NodeInstrumentation.PolicySettings {
        .init(
            namespace: "shop", name: name, generation: 2,
            spec: ["ports": [["port": 8080]], "protocols": ["http"], "sampling": ["sampler": DocumentNode(stringLiteral: sampler)],
                   "capture": ["payloadBytes": 1024], "resourceAttributes": ["env": "prod"]])
    }

    @Test func reportsTheGenerationPoliciesAndCountersApplied() {
        let report = NodeStatusReport(
            object: Self.object(policies: [Self.settings("web")]), rejected: [:], processesAttached: 4, eventsDropped: 9,
            kernelFeatures: ["ringbuf"], time: "t")
        #expect(report.status == .init(
            observedGeneration: 3, policies: [.init(namespace: "shop", name: "web", generation: 2)], processesAttached: 4,
            eventsDropped: 9, requestsShed: 0, kernelFeatures: ["ringbuf"], lastError: nil))
    }

    @Test func aPolicyTheAgentCannotApplyIsLeftOutAndNamedInLastError() {
        let object = Self.object(policies: [Self.settings("web"), Self.settings("bad", sampler: "nonsense")])
        let (planner, rejected) = NodePlanner.from(object)
        #expect(planner.policies.keys.sorted() == ["shop/web"])
        #expect(rejected.keys.sorted() == ["shop/bad"])
        let report = NodeStatusReport(object: object, rejected: rejected, processesAttached: 0, eventsDropped: 0, kernelFeatures: [], time: "t")
        #expect(report.status.policies?.map(\.name) == ["web"])
        #expect(report.status.lastError?.message.contains("shop/bad") == true)
    }

    @Test func writesAtOnceOnChangeButCountersOnlyWhenDue() {
        let object = Self.object(policies: [Self.settings("web")])
        let report = NodeStatusReport(object: object, rejected: [:], processesAttached: 4, eventsDropped: 9, kernelFeatures: ["ringbuf"], time: "t")
        #expect(report.needsWrite(current: nil, countersDue: false))
        #expect(!report.needsWrite(current: report.status, countersDue: true))
        var olderCounters = report.status
        olderCounters.eventsDropped = 1
        #expect(!report.needsWrite(current: olderCounters, countersDue: false))
        #expect(report.needsWrite(current: olderCounters, countersDue: true))
        var olderGeneration = report.status
        olderGeneration.observedGeneration = 2
        #expect(report.needsWrite(current: olderGeneration, countersDue: false))
    }

    @Test func propagationCountersAreReportedAndWrittenOnlyWhenDue() {
        let object = Self.object(policies: [Self.settings("web")])
        let written = NodeInstrumentation.PropagationStatus(headersInjected: 40, optionsWritten: 0, requestsUntouched: ["splitHead": 2])
        let report = NodeStatusReport(
            object: object, rejected: [:], processesAttached: 4, eventsDropped: 0, kernelFeatures: ["sk_msg"], propagation: written, time: "t")
        #expect(report.status.propagation == written)
        var older = report.status
        older.propagation?.headersInjected = 10
        #expect(!report.needsWrite(current: older, countersDue: false))
        #expect(report.needsWrite(current: older, countersDue: true))
    }

    @Test func aRepeatedErrorKeepsItsFirstTime() {
        let object = Self.object(policies: [Self.settings("bad", sampler: "nonsense")])
        let (_, rejected) = NodePlanner.from(object)
        let first = NodeStatusReport(object: object, rejected: rejected, processesAttached: 0, eventsDropped: 0, kernelFeatures: [], time: "t1")
        let later = NodeStatusReport(object: object, rejected: rejected, processesAttached: 0, eventsDropped: 0, kernelFeatures: [], time: "t2")
        #expect(!later.needsWrite(current: first.status, countersDue: false))
    }

    @Test func targetsBecomePodTargetsWithAnnotationsAndOwner() throws {
        var object = Self.object(policies: [Self.settings("web")])
        object.spec.targets = [.init(
            uid: "u", namespace: "shop", name: "web-1", owner: .init(kind: "Deployment", name: "web"), labels: ["a": "b"],
            annotations: ["resource.opentelemetry.io/service.name": "svc"], policy: "web",
            containers: [.init(name: "app", id: "containerd://" + String(repeating: "a", count: 64))])]
        let planner = NodePlanner.from(object).planner
        let target = try #require(planner.targets.first)
        #expect(target.owner == .init(kind: "Deployment", name: "web"))
        #expect(target.annotations["resource.opentelemetry.io/service.name"] == "svc")
        #expect(planner.nodeName == "node-a")
    }

    @Test func tlsStatusNamesProbedFilesAndRefusalsByReasonAndIsWrittenWithTheCounters() {
        var probes = TLSProbeStatus()
        probes.files = [
            .init(path: "/usr/bin/node", library: "openssl", processes: 2),
            .init(path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", library: "openssl", processes: 5),
        ]
        probes.processesProbed = 7
        probes.refusals = (1...12).map { pid in
            .init(pid: Int32(pid), reason: pid == 1
                ? "/srv/app: tls.unsupported_version: go1.16; /lib/libssl.so.1: elf.not_elf: bad magic"
                : "tls.no_symbols: SSL_read and SSL_write not in its symbol tables")
        }
        let tls = probes.nodeStatus
        #expect(tls.files?.map(\.processes) == [2, 5] && tls.processesProbed == 7)
        #expect(tls.refusals?.count == NodeInstrumentation.TLSStatus.maxRefusalsListed && tls.refusals?.first?.pid == 1)
        let report = NodeStatusReport(
            object: Self.object(policies: [Self.settings("web")]), rejected: [:], processesAttached: 4, eventsDropped: 0,
            kernelFeatures: ["uprobe_multi"], tls: tls, time: "t")
        #expect(report.status.tls == tls)
        var older = report.status
        older.tls?.files?[0].processes = 1
        #expect(!report.needsWrite(current: older, countersDue: false))
        #expect(report.needsWrite(current: older, countersDue: true))
    }

    @Test func refusalsAreCountedOncePerProcessAndCode() {
        var probes = TLSProbeStatus()
        probes.refusals = [
            .init(pid: 1, reason: "/srv/app: tls.unsupported_version: go1.16"),
            .init(pid: 2, reason: "tls.no_symbols: stripped; tls.no_symbols: stripped too; elf.not_elf: bad magic"),
            .init(pid: 3, reason: "tls.no_symbols: stripped"),
        ]
        // A path in front of the code (as the attacher writes refusals) is not a code.
        #expect(probes.refusalsByCode["tls.no_symbols"] == 2 && probes.refusalsByCode["elf.not_elf"] == 1)
    }
}
