import PeriscopeAPI
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
}
