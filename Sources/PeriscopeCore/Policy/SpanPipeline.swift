/// The policy's last word on each finished span: drops excluded routes and unsampled
/// traces, names HTTP spans by route, and strips queries the policy does not keep.
///
/// Steps, in order: drop spans of a protocol the policy does not trace; drop HTTP spans
/// whose path is an excluded route; set `http.route` from `routes` (first match wins) and
/// the name to `METHOD route`, or `METHOD` when no route matches (`HTTP` when the
/// method is unknown; TCP spans keep their name); drop spans the sampler rejects, with the request's `traceparent` as parent.
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
    }

    public let routes: RouteMatcher
    public let excludedRoutes: RouteMatcher
    public let sampler: Sampler
    public let protocols: Set<TracedProtocol>
    public let keepQuery: Bool
    public private(set) var counters = Counters()

    public init(policy: Policy) {
        routes = RouteMatcher(policy.routes)
        excludedRoutes = RouteMatcher(policy.exclude.routes)
        sampler = policy.sampler
        protocols = policy.protocols
        keepQuery = policy.capture.keepQuery
    }

    /// The span as it should be exported, or nil when it is dropped.
    public mutating func process(_ span: Span) -> Span? {
        counters.received += 1
        var span = span
        guard protocols.contains(span.http != nil ? .http : .tcp) else {
            counters.excludedByProtocol += 1
            return nil
        }
        if var http = span.http {
            if !keepQuery {
                http.path = Self.withoutQuery(http.path)
                http.target = Self.withoutQuery(http.target)
            }
            if excludedRoutes.matches(http.path) {
                counters.excludedByRoute += 1
                return nil
            }
            http.route = routes.route(for: http.path)
            let method = http.method.isEmpty ? "HTTP" : http.method
            span.name = http.route.map { "\(method) \($0)" } ?? method
            span.http = http
        }
        let parent = span.http?.traceparent.flatMap { TraceContext(traceparent: $0) }
        guard sampler.shouldSample(traceID: span.traceID, parent: parent) else {
            counters.sampledOut += 1
            return nil
        }
        counters.kept += 1
        return span
    }

    static func withoutQuery(_ text: String) -> String {
        guard let query = text.firstIndex(of: "?") else { return text }
        return String(text[..<query])
    }
}
