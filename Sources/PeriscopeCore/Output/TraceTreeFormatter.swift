/// One trace as an indented tree, one line per span: kind, name, status, process, duration,
/// and how much of it the hop spent itself versus waiting on its children.
///
/// ```
/// trace 4bf92f3577b34da6a3ce929d0e0e4736  6 spans  12.480 ms
/// CLIENT GET /r/{id}  curl[812]  12.480 ms  self 0.310 ms  waiting 12.170 ms
///   SERVER GET /r/{id}  nginx[815]  12.010 ms  self 0.420 ms  waiting 11.590 ms
/// ```
///
/// Waiting is the union of the children's intervals within the span, so overlapping calls
/// are not counted twice; self is the rest.
public struct TraceTreeFormatter: Sendable {
    public init() {}

    /// The spans of one trace (any order); spans whose parent is not among them start a tree.
    public func format(_ spans: [Span]) -> String {
        guard let first = spans.first else { return "" }
        let ids = Set(spans.map(\.spanID))
        var children: [SpanID: [Span]] = [:]
        var roots: [Span] = []
        for span in spans {
            if let parent = span.parentSpanID, ids.contains(parent), parent != span.spanID {
                children[parent, default: []].append(span)
            } else {
                roots.append(span)
            }
        }
        let start = spans.map(\.startTimeUnixNano).min() ?? 0
        let end = spans.map(\.endTimeUnixNano).max() ?? 0
        var lines = ["trace \(first.traceID.hex)  \(spans.count) span\(spans.count == 1 ? "" : "s")  \(Self.milliseconds(end >= start ? end - start : 0))"]
        var visited: Set<SpanID> = []
        func visit(_ span: Span, depth: Int) {
            guard visited.insert(span.spanID).inserted else { return }
            let kids = (children[span.spanID] ?? []).sorted { $0.startTimeUnixNano < $1.startTimeUnixNano }
            let waiting = Self.covered(by: kids, within: span)
            let duration = span.durationNanos
            var line = String(repeating: "  ", count: depth) + "\(span.kind.rawValue) \(span.name)"
            if span.status == .error { line += " ERROR" + (span.statusMessage.map { " (\($0))" } ?? "") }
            line += "  \(Self.process(of: span))  \(Self.milliseconds(duration))"
            line += "  self \(Self.milliseconds(duration - min(waiting, duration)))  waiting \(Self.milliseconds(waiting))"
            lines.append(line)
            for kid in kids { visit(kid, depth: depth + 1) }
        }
        for root in roots.sorted(by: { $0.startTimeUnixNano < $1.startTimeUnixNano }) { visit(root, depth: 0) }
        return lines.joined(separator: "\n")
    }

    /// Nanoseconds of `span` covered by at least one of `children` (sorted by start).
    static func covered(by children: [Span], within span: Span) -> UInt64 {
        var total: UInt64 = 0
        var cursor = span.startTimeUnixNano
        for child in children {
            let from = max(child.startTimeUnixNano, cursor)
            let to = min(child.endTimeUnixNano, span.endTimeUnixNano)
            if to > from {
                total += to - from
                cursor = to
            }
        }
        return total
    }

    /// `nginx[815]`: the executable's file name and the pid.
    static func process(of span: Span) -> String {
        let name = span.executable.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "pid"
        return "\(name)[\(span.pid)]"
    }

    /// `12.480 ms`.
    static func milliseconds(_ nanos: UInt64) -> String {
        let micros = (nanos + 500) / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
    }
}
