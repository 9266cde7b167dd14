import Testing
import PeriscopeCore

@Suite struct TraceDecisionsTests {
    /// A trace of `count` spans whose processes follow the pipelines given by `owners`.
    static func trace(_ count: Int, traceID: TraceID = SpanPipelineTests.traceID, incoming: TraceContext? = nil) -> AssembledTrace {
        let spans = (0..<count).map { index in
            var span = SpanPipelineTests.httpSpan(path: "/r", traceID: traceID)
            span.spanID = SpanID(value: UInt64(index + 1))
            span.pid = Int32(index)
            return span
        }
        return AssembledTrace(spans: spans, incoming: incoming, completion: .complete)
    }

    static func kept(_ decisions: [SpanPipeline.Decision]) -> [Bool] {
        decisions.map { if case .kept = $0 { true } else { false } }
    }

    @Test func parentBasedSamplersFollowTheFirstSpansDecisionAcrossPolicies() throws {
        // The root's policy keeps nothing; the others would keep everything on their own.
        var root = try SpanPipelineTests.pipeline("sampling: {sampler: parentbased_traceidratio, ratio: \"0\"}")
        var rest = try SpanPipelineTests.pipeline("sampling: {sampler: parentbased_always_on}")
        var independent = try SpanPipelineTests.pipeline("sampling: {sampler: always_on}")
        let decisions = Self.trace(3).decisions { span, context in
            switch span.pid {
            case 0: root.decide(span, incoming: context)
            case 1: rest.decide(span, incoming: context)
            default: independent.decide(span, incoming: context)
            }
        }
        #expect(Self.kept(decisions) == [false, false, true], "parent-based follows the root; always_on decides alone")
    }

    @Test func withOnePolicyTheTraceIsDecidedAsItsSpansWouldBeAlone() throws {
        let incoming = TraceContext(traceID: SpanPipelineTests.traceID, parentID: SpanID(value: 9), flags: 0)
        for yaml in ["sampling: {sampler: parentbased_traceidratio, ratio: \"0.5\"}", "sampling: {sampler: always_on}", "{}"] {
            for context in [nil, incoming] {
                var together = try SpanPipelineTests.pipeline(yaml), alone = try SpanPipelineTests.pipeline(yaml)
                let trace = Self.trace(3, incoming: context)
                let decisions = trace.decisions { together.decide($0, incoming: $1) }
                #expect(decisions == trace.spans.map { alone.decide($0, incoming: context) }, "\(yaml), incoming \(context == nil ? "none" : "unsampled")")
            }
        }
    }

    @Test func anExcludedFirstSpanPassesOnTheIncomingContext() throws {
        var first = try SpanPipelineTests.pipeline("exclude: {routes: [/r]}")
        var rest = try SpanPipelineTests.pipeline("{}")
        let incoming = TraceContext(traceID: SpanPipelineTests.traceID, parentID: SpanID(value: 9), flags: 0)
        let decisions = Self.trace(2, incoming: incoming).decisions { span, context in
            span.pid == 0 ? first.decide(span, incoming: context) : rest.decide(span, incoming: context)
        }
        #expect(decisions.first == .excluded)
        #expect(Self.kept(decisions) == [false, false], "the unsampled incoming context still rules")
    }
}
