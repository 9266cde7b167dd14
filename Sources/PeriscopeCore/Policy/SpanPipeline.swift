/// The policy's last word on each finished span: drops excluded routes and unsampled
/// traces, names HTTP spans by route, and strips queries the policy does not keep.
///
/// Steps, in order: drop spans of a protocol the policy does not trace; drop HTTP spans
/// whose path is an excluded route; set `http.route` from `routes` (first match wins),
/// or when none matches from the path with identifiers replaced (`RouteTemplate`), and
/// the name to `METHOD route` (`HTTP` when the method is unknown; TCP spans keep their
/// name); drop spans the sampler rejects, with the request's `traceparent` as parent.
public struct SpanPipeline: Sendable {
    /// What happened to the spans seen so far.
    public struct Counters: Sendable, Equatable {
        /// Spans given to `process(_:)`.
        public var received = 0
        /// Spans returned.
        public var kept = 0
        /// Dropped because their path matched `exclude.routes`.
        public var excludedByRoute = 0
        /// Dropped by the sampler.
        public var sampledOut = 0
        /// Dropped because their protocol is not in `protocols`.
        public var excludedByProtocol = 0

        public init() {}

        public static func + (a: Counters, b: Counters) -> Counters {
            var sum = a
            sum.received += b.received
            sum.kept += b.kept
            sum.excludedByRoute += b.excludedByRoute
            sum.sampledOut += b.sampledOut
            sum.excludedByProtocol += b.excludedByProtocol
            return sum
        }
    }

    public let routes: RouteMatcher
    public let excludedRoutes: RouteMatcher
    public let sampler: Sampler
    public let protocols: Set<TracedProtocol>
    public let keepQuery: Bool
    public private(set) var counters = Counters()
    /// Routes and names of recent requests' methods and paths.
    private var names = RouteNameCache()
    /// `protocols` read once: the pipeline runs for every span.
    private let tracesTCP: Bool
    private let tracesHTTP: Bool
    private let tracesGRPC: Bool

    /// - Parameter counters: totals to continue from, so a policy change does not reset them.
    public init(policy: Policy, counters: Counters = Counters()) {
        self.counters = counters
        routes = RouteMatcher(policy.routes)
        excludedRoutes = RouteMatcher(policy.exclude.routes)
        sampler = policy.sampler
        protocols = policy.protocols
        keepQuery = policy.capture.keepQuery
        tracesTCP = policy.protocols.contains(.tcp)
        tracesHTTP = policy.protocols.contains(.http)
        tracesGRPC = policy.protocols.contains { $0.rawValue == "grpc" }
    }

    /// What becomes of one span.
    public enum Decision: Sendable, Equatable {
        /// Not traced at all (protocol or route excluded).
        case excluded
        /// Traced and named, but not kept by the sampler: it still counts in metrics.
        case sampledOut(Span)
        /// Traced, named and sampled: printed and exported.
        case kept(Span)
    }

    /// The span as it should be exported, or nil when it is dropped.
    public mutating func process(_ span: Span) -> Span? {
        if case .kept(let kept) = decide(span) { return kept }
        return nil
    }

    /// The span as it should be exported or counted, and whether the sampler keeps it.
    /// Parent-based samplers follow the context the span's parent passed on (`Span.incoming`),
    /// which carries its trace's decision, so a trace is kept or dropped whole.
    public mutating func decide(_ span: consuming Span) -> Decision {
        var span = span
        return switch judge(&span) {
        case .excluded: .excluded
        case .sampledOut: .sampledOut(span)
        case .kept: .kept(span)
        }
    }

    /// The same with `incoming` as the parent's context.
    public mutating func decide(_ span: consuming Span, incoming: TraceContext?) -> Decision {
        var span = span
        return switch judge(&span, incoming: incoming) {
        case .excluded: .excluded
        case .sampledOut: .sampledOut(span)
        case .kept: .kept(span)
        }
    }

    /// What becomes of one span, decided where it lies: named and stripped in place, never
    /// copied or moved (what the capture thread does with every span it finishes).
    public enum Verdict: Sendable, Equatable {
        /// Not traced at all (protocol or route excluded).
        case excluded
        /// Traced and named, but not kept by the sampler: it still counts in metrics.
        case sampledOut
        /// Traced, named and sampled: printed and exported.
        case kept
    }

    /// `decide(_:)` for a span left where it lies: `span` is named and stripped in place.
    public mutating func judge(_ span: inout Span) -> Verdict {
        let incoming = span.incoming ?? span.httpTraceparent.flatMap { TraceContext(traceparent: $0) }
        return judge(&span, incoming: incoming)
    }

    /// The decision on `span`, named and stripped where it lies: never copied.
    private mutating func judge(_ span: inout Span, incoming: TraceContext?) -> Verdict {
        counters.received += 1
        // Connection spans are the `tcp` decoder's, HTTP exchanges the `http` decoder's
        // (gRPC's too, when the policy names it); other protocols' decoders run only when named.
        // Most spans carry no protocol attributes: nothing to look for in them then.
        let http = span.hasHTTP
        let rpc = !span.protocolAttributes.isEmpty && span.protocolAttributes.contains { $0.key == "rpc.system" }
        let traced = if span.tcp != nil {
            tracesTCP
        } else if http {
            tracesHTTP || tracesGRPC && rpc
        } else {
            true
        }
        guard traced else {
            counters.excludedByProtocol += 1
            return .excluded
        }
        if http {
            // The details are changed where the span stores them, not copied out and back;
            // only the name comes out (nil for an excluded route).
            let name = span.updateHTTP { http -> String? in
                if !keepQuery { http.removeQuery() }
                guard let named = self.named(http) else { return nil }
                http.route = named.route
                return named.name
            }
            guard let name = name ?? nil else {
                counters.excludedByRoute += 1
                return .excluded
            }
            // RPCs keep the name their protocol gave them (`package.Service/Method`).
            if !rpc { span.name = name }
        }
        guard sampler.shouldSample(traceID: span.traceID, parent: incoming) else {
            counters.sampledOut += 1
            return .sampledOut
        }
        counters.kept += 1
        return .kept
    }

    /// The route and span name of a request (nil for an excluded route): as decided for the
    /// same method and path lately, or decided now and kept.
    private mutating func named(_ http: borrowing HTTPDetails) -> RouteNameCache.Named? {
        let known = http.withMethodBytes { method in
            http.withPathBytes { needsSlash, path in names.named(method: method, pathNeedsSlash: needsSlash, path: path) }
        }
        if let known { return known }
        let path = http.path
        var decided: RouteNameCache.Named?
        if !excludedRoutes.matches(path) {
            let route = routes.route(for: path) ?? RouteTemplate.template(for: path)
            decided = (route, Self.name(method: http.method, route: route))
        }
        http.withMethodBytes { method in
            http.withPathBytes { needsSlash, path in names.keep(decided, method: method, pathNeedsSlash: needsSlash, path: path) }
        }
        return decided
    }

    /// `METHOD route`, `HTTP` for an unknown method, the method alone for an empty route.
    static func name(method: String, route: String) -> String {
        let method = method.isEmpty ? "HTTP" : method
        guard !route.isEmpty else { return method }
        var name = ""
        name.reserveCapacity(method.utf8.count + 1 + route.utf8.count)
        name.append(method)
        name.append(" ")
        name.append(route)
        return name
    }
}
