extension AssembledTrace {
    /// The fate of each span, in order, as `decide` (the pipeline of the span's process) rules:
    /// the first span with the context the trace came in with; every other span as if the first
    /// had passed its sampling decision on in a `traceparent`. Parent-based samplers thus keep or
    /// drop a trace whole even when its processes follow different policies; with one policy
    /// the result is what deciding every span with `incoming` gives.
    public func decisions(_ decide: (Span, TraceContext?) -> SpanPipeline.Decision) -> [SpanPipeline.Decision] {
        guard let first = spans.first else { return [] }
        let firstDecision = decide(first, incoming)
        var context = incoming
        switch firstDecision {
        case .kept(let span): context = TraceContext(traceID: span.traceID, parentID: span.spanID, flags: 0x01)
        case .sampledOut(let span): context = TraceContext(traceID: span.traceID, parentID: span.spanID, flags: 0x00)
        case .excluded: break
        }
        var decisions = [firstDecision]
        guard spans.count > 1 else { return decisions }
        decisions.reserveCapacity(spans.count)
        for span in spans.dropFirst() { decisions.append(decide(span, context)) }
        return decisions
    }
}
