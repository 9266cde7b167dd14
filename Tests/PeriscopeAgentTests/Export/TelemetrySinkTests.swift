import Logging
import PeriscopeCore
import Testing
@testable import PeriscopeAgent

/// The exports get exactly the spans emitted since the last flush, whatever the order of
/// observed and emitted spans: all of them sampled (kept with the observed ones, not copied
/// again), none, or some (the first, the last, every other).
@Suite struct TelemetrySinkTests {
    /// The policy in force, whose id the spans carry.
    static let policies = PolicySet(try! Policy.parse(yaml: "ports: [80]\nexport:\n  otlp:\n    endpoint: http://127.0.0.1:19/\n"))

    static func span(_ index: Int) -> Span {
        var span = Span(
            traceID: TraceID(high: 1, low: UInt64(index)), spanID: SpanID(value: UInt64(index) + 1), kind: .server, name: "GET /\(index)",
            startTimeUnixNano: 1, endTimeUnixNano: 2, pid: 10, tid: 10, local: SocketAddress(ipv4: 127, 0, 0, 1, port: 80),
            peer: SocketAddress(ipv4: 127, 0, 0, 1, port: 40000)
        )
        span.policy = policies.ids.first
        return span
    }

    /// A router with the agent's own export and, with `policyExport`, the policy's own as
    /// well (spans then go to both, copied per export; without, one policy of the same id
    /// that names no receiver).
    static func router(policyExport: Bool) -> ExportRouter {
        let own = ExportConfiguration.OTLP(tracesEndpoint: "http://127.0.0.1:9/v1/traces", metricsEndpoint: "http://127.0.0.1:9/v1/metrics")
        let router = ExportRouter(
            configuration: ExportConfiguration(otlp: own), policyExportsGetAgentHealth: false, resources: ProcessResources(),
            startTimeUnixNano: 0, logger: Logger(label: "test")
        ) { _, _ in [] }
        router.apply(policyExport ? policies : PolicySet(try! Policy.parse(yaml: "ports: [80]\n")))
        return router
    }

    @Test(arguments: [
        [true, true, true], [false, false], [false, true, true], [true, true, false], [true, false, true, false, true],
        [false, true, false, true], [true], [false],
    ], [false, true])
    func exportsGetTheEmittedSpans(sampled: [Bool], policyExport: Bool) throws {
        let router = Self.router(policyExport: policyExport)
        let recorder = SpanMetricsRecorder(startTimeUnixNano: 0)
        let sink = TelemetrySink(recorder: recorder, router: router)
        let exports = policyExport ? 2 : 1
        var expected = 0
        // Twice, so that what the first flush left behind would show in the second.
        for _ in 0..<2 {
            for (index, kept) in sampled.enumerated() {
                let span = Self.span(index)
                sink.observe(span)
                if kept { sink.emit(span) }
            }
            sink.flush()
            expected += sampled.filter { $0 }.count * exports
            #expect(router.statistics?.spansQueued == UInt64(expected), "\(sampled)")
        }
        // Emitted without being observed first.
        sink.emit(Self.span(99))
        sink.flush()
        #expect(router.statistics?.spansQueued == UInt64(expected + exports))
    }
}
