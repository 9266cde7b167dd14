extension TraceLinker {
    /// The context as it stands now: a provisional trace followed to where its caller's
    /// context put it. Nil while it still waits.
    public func current(_ context: SpanContext) -> SpanContext? {
        var context = context
        var steps = 0
        while context.provisional != 0 {
            steps += 1
            let number = context.provisional
            if steps <= 16, let resolution = resolutions[Int(number % UInt64(resolutions.count))], resolution.provisional == number {
                context.traceID = resolution.traceID
                context.sampled = resolution.sampled
                if context.spanID == resolution.root {
                    context.parentSpanID = resolution.parentSpanID
                    context.parentIsLocal = true
                }
                context.provisional = resolution.next
            } else if steps <= 16, waiting[number] != nil {
                return nil
            } else {
                context.provisional = 0  // gave up: the provisional trace stands
            }
        }
        return context
    }

    /// The finished span just appended to `output`, built with its context as it stands now
    /// (`current(_:)` nil): taken back out to wait while its trace is provisional.
    mutating func holdLast(of output: inout [Span], context: SpanContext, now: UInt64) {
        guard !output.isEmpty else { return }
        hold(output.removeLast(), context: context, now: now, into: &output)
    }

    /// A finished span with its context: out now, or held while its trace is provisional.
    public mutating func finish(_ span: consuming Span, context: SpanContext, now: UInt64, into output: inout [Span]) {
        if let settled = current(context) {
            // Changed where it was passed (a consuming parameter), then moved into the list.
            place(&span, settled)
            output.append(span)
            return
        }
        hold(span, context: context, now: now, into: &output)
    }

    /// Keeps a span until its provisional trace settles; beyond `maxHeldSpans`, the oldest
    /// wait is given up and what it held goes out.
    private mutating func hold(_ span: consuming Span, context: SpanContext, now: UInt64, into output: inout [Span]) {
        held.append(HeldSpan(span: span, context: context, since: now))
        counters.heldSpans = held.count
        if held.count > max(1, configuration.maxHeldSpans) {
            giveUp(held[0].context)
            release(now: 0, into: &output)
        }
    }

    /// Gives up provisional traces whose wait is over and lets out the spans no longer waiting.
    public mutating func release(now: UInt64, into output: inout [Span]) {
        if now != .max { releasedAt = max(releasedAt, now) }
        guard !waiting.isEmpty || !held.isEmpty else { return }
        for (number, deadline) in waiting where deadline <= now {
            waiting[number] = nil
            counters.provisionalExpired += 1
        }
        guard !held.isEmpty else { return }
        var kept: [HeldSpan] = []
        for entry in held {
            if let context = current(entry.context) {
                output.append(placed(entry.span, context))
            } else {
                kept.append(entry)
            }
        }
        held = kept
        counters.heldSpans = held.count
    }

    /// Lets everything out, for shutdown: waits end now.
    public mutating func releaseAll(into output: inout [Span]) {
        counters.provisionalExpired += waiting.count
        waiting.removeAll()
        release(now: .max, into: &output)
    }

    private mutating func giveUp(_ context: SpanContext) {
        var number = context.provisional
        while number != 0, waiting.removeValue(forKey: number) == nil {
            guard let resolution = resolutions[Int(number % UInt64(resolutions.count))], resolution.provisional == number else { break }
            number = resolution.next
        }
        if number != 0 { counters.provisionalExpired += 1 }
    }

    /// The span with its settled context; a server span is kept inside its local caller.
    mutating func placed(_ span: consuming Span, _ context: SpanContext) -> Span {
        place(&span, context)
        return span
    }

    /// Gives the span its settled context where it is; a server span is kept inside its
    /// local caller.
    mutating func place(_ span: inout Span, _ context: SpanContext) {
        Self.apply(context, to: &span)
        if span.kind == .server { keepInsideCaller(&span, context) }
    }

    static func apply(_ context: SpanContext, to span: inout Span) {
        span.traceID = context.traceID
        span.spanID = context.spanID
        span.parentSpanID = context.parentSpanID
        span.incoming = context.incoming
        span.parentIsLocal = context.parentIsLocal
    }

    /// Remembers when a client request started (Unix nanoseconds), for its children.
    public mutating func noteClientStart(_ spanID: SpanID, at timestamp: UInt64) {
        if callers.count >= Self.maxClamps { callers.removeAll() }
        callers[spanID] = CallerTimes(start: timestamp)
    }

    /// A client request's end, moved to its child's end when that came up to `skewNanos`
    /// later; kept for a child that ends after it. Returns whether it is kept (no child yet).
    public mutating func clampEnd(_ end: inout UInt64, of spanID: SpanID) -> Bool {
        guard let slot = callers.index(forKey: spanID) else { return false }
        if let childEnd = callers[slot: slot].childEnd {
            // Its child ended first (the usual order): nothing is left to keep inside it.
            if childEnd > end, childEnd - end <= Self.skewNanos { end = childEnd }
            callers.removeValue(at: slot)
            return false
        }
        callers[slot: slot].end = end
        return true
    }

    /// Forgets a client request's times: no traced server will read it, so no child comes.
    public mutating func forgetCaller(_ spanID: SpanID) {
        _ = callers.removeValue(forKey: spanID)
    }

    /// A server span inside its local caller: its start no earlier than the caller's, its
    /// end no later than the caller's when that is known, moved by at most `skewNanos`;
    /// otherwise its end noted for the caller.
    mutating func keepInsideCaller(_ span: inout Span, _ context: SpanContext) {
        keepInsideCaller(start: &span.startTimeUnixNano, end: &span.endTimeUnixNano, context)
    }

    /// `keepInsideCaller(_:_:)` for a server span's times (Unix nanoseconds) before it is built.
    mutating func keepInsideCaller(start: inout UInt64, end: inout UInt64, _ context: SpanContext) {
        guard context.parentIsLocal, let parent = context.parentSpanID, let slot = callers.index(forKey: parent) else { return }
        let caller = callers[slot: slot]
        if caller.start > start, caller.start - start <= Self.skewNanos {
            start = min(caller.start, end)
        }
        if let callerEnd = caller.end {
            if end > callerEnd, end - callerEnd <= Self.skewNanos {
                end = max(callerEnd, start)
            }
            callers.removeValue(at: slot)
        } else {
            callers[slot: slot].childEnd = max(caller.childEnd ?? 0, end)
        }
    }
}
