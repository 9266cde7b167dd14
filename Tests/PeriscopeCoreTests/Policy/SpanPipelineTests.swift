import Testing
import PeriscopeCore

@Suite struct SpanPipelineTests {
    static let traceID = TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!

    static func httpSpan(
        method: String = "GET", path: String, target: String? = nil, traceparent: String? = nil,
        traceID: TraceID = traceID
    ) -> Span {
        Span(
            traceID: traceID, spanID: SpanID(hex: "00f067aa0ba902b7")!, kind: .server, name: method,
            startTimeUnixNano: 1, endTimeUnixNano: 2, pid: 10, tid: 10,
            local: SocketAddress(ipv4: 127, 0, 0, 1, port: 8080), peer: SocketAddress(ipv4: 127, 0, 0, 1, port: 50000),
            http: HTTPDetails(method: method, path: path, target: target ?? path, traceparent: traceparent)
        )
    }

    static func tcpSpan() -> Span {
        Span(
            traceID: traceID, spanID: SpanID(hex: "00f067aa0ba902b7")!, kind: .server, name: "tcp",
            startTimeUnixNano: 1, endTimeUnixNano: 2, pid: 10, tid: 10,
            local: .unspecified, peer: .unspecified, tcp: TCPDetails(bytesSent: 1, bytesReceived: 2)
        )
    }

    static func pipeline(_ yaml: String) throws -> SpanPipeline {
        SpanPipeline(policy: try Policy.parse(yaml: yaml))
    }

    @Test(arguments: [
        ("GET", "/users/42", "GET /users/{id}", "/users/{id}" as String?),
        ("POST", "/static/app.js", "POST /static/*", "/static/*"),
        ("GET", "/orders/1", "GET /orders/{id}", "/orders/{id}"),
        ("", "/users/1", "HTTP /users/{id}", "/users/{id}"),
    ])
    func namesHTTPSpansByMethodAndRoute(method: String, path: String, name: String, route: String?) throws {
        var pipeline = try Self.pipeline("routes: [\"/users/{id}\", \"/static/*\"]")
        let span = pipeline.process(Self.httpSpan(method: method, path: path))
        #expect(span?.name == name)
        #expect(span?.http?.route == route)
    }

    /// Routes and names are kept per method and path: a pipeline that has seen many requests
    /// (more than it keeps, some repeated, some excluded) names each as a fresh one does.
    @Test func namesRepeatedRequestsAsAFreshPipelineDoes() throws {
        let yaml = "{routes: [\"/users/{id}\", \"/static/*\"], exclude: {routes: [\"/healthz\"]}}"
        var seasoned = try Self.pipeline(yaml)
        let methods = ["GET", "POST", "", "G\u{e9}T"]
        let paths = ["/users/7", "/static/a.css", "/healthz", "/orders/12/items/9", "/", "/x?q=1", "/caf\u{e9}/3"]
        var requests: [(method: String, path: String)] = []
        for round in 0..<3 {
            for method in methods { for path in paths { requests.append((method, path)) } }
            for number in 0..<100 { requests.append(("GET", "/n\(number + round)/\(number)")) }
        }
        for (method, path) in requests {
            var fresh = try Self.pipeline(yaml)
            let expected = fresh.process(Self.httpSpan(method: method, path: path))
            let span = seasoned.process(Self.httpSpan(method: method, path: path))
            #expect(span == expected, "\(method) \(path)")
        }
        #expect(seasoned.counters.excludedByRoute == 3 * methods.count)
    }

    @Test func tcpSpansKeepTheirName() throws {
        var pipeline = try Self.pipeline("routes: [\"/*\"]")
        #expect(pipeline.process(Self.tcpSpan())?.name == "tcp")
    }

    @Test func excludedRoutesAreDroppedAndCounted() throws {
        var pipeline = try Self.pipeline("exclude: {routes: [\"/healthz\", \"/debug/*\"]}")
        #expect(pipeline.process(Self.httpSpan(path: "/healthz")) == nil)
        #expect(pipeline.process(Self.httpSpan(path: "/healthz", target: "/healthz?probe=1")) == nil)
        #expect(pipeline.process(Self.httpSpan(path: "/debug/pprof")) == nil)
        #expect(pipeline.process(Self.httpSpan(path: "/healthz/deep")) != nil)
        #expect(pipeline.counters.excludedByRoute == 3)
        #expect(pipeline.counters.received == 4)
        #expect(pipeline.counters.kept == 1)
    }

    @Test func countersContinueAcrossAPolicyChange() throws {
        var pipeline = try Self.pipeline("exclude: {routes: [\"/healthz\"]}")
        _ = pipeline.process(Self.httpSpan(path: "/healthz"))
        pipeline = SpanPipeline(policy: try Policy.parse(yaml: "sampling: {sampler: always_off}"), counters: pipeline.counters)
        _ = pipeline.process(Self.httpSpan(path: "/orders"))
        #expect(pipeline.counters.excludedByRoute == 1)
        #expect(pipeline.counters.sampledOut == 1)
        #expect(pipeline.counters.received == 2)
    }

    @Test func excludedRouteMatchesAPathThatStillCarriesItsQuery() throws {
        var pipeline = try Self.pipeline("exclude: {routes: [\"/healthz\"]}\ncapture: {keepQuery: true}")
        #expect(pipeline.process(Self.httpSpan(path: "/healthz?x=1")) == nil)
    }

    @Test func queryIsStrippedUnlessKept() throws {
        var stripping = try Self.pipeline("routes: [\"/search\"]")
        let stripped = stripping.process(Self.httpSpan(path: "/search?q=secret", target: "/search?q=secret"))
        #expect(stripped?.http?.path == "/search")
        #expect(stripped?.http?.target == "/search")
        #expect(stripped?.name == "GET /search")

        var keeping = try Self.pipeline("routes: [\"/search\"]\ncapture: {keepQuery: true}")
        let kept = keeping.process(Self.httpSpan(path: "/search?q=1", target: "/search?q=1"))
        #expect(kept?.http?.target == "/search?q=1")
        #expect(kept?.http?.route == "/search")
    }

    @Test func unsampledParentDropsTheSpanUnderParentBasedSampling() throws {
        var pipeline = try Self.pipeline("")
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(pipeline.process(Self.httpSpan(path: "/", traceparent: unsampled)) == nil)
        #expect(pipeline.process(Self.httpSpan(path: "/", traceparent: sampled)) != nil)
        #expect(pipeline.process(Self.httpSpan(path: "/", traceparent: "garbage")) != nil)
        #expect(pipeline.process(Self.httpSpan(path: "/")) != nil)
        #expect(pipeline.counters.sampledOut == 1)
    }

    @Test func alwaysOffDropsEverySpanIncludingTCP() throws {
        var pipeline = try Self.pipeline("sampling: {sampler: always_off}")
        #expect(pipeline.process(Self.tcpSpan()) == nil)
        #expect(pipeline.process(Self.httpSpan(path: "/")) == nil)
        #expect(pipeline.counters.sampledOut == 2)
    }

    @Test func ratioSamplingKeepsAboutTheRatio() throws {
        var pipeline = try Self.pipeline("sampling: {sampler: traceidratio, ratio: \"0.25\"}")
        var generator = SeededGenerator(seed: 1234)
        for _ in 0..<4000 {
            _ = pipeline.process(Self.httpSpan(path: "/", traceID: .random(using: &generator)))
        }
        #expect(abs(Double(pipeline.counters.kept) / 4000 - 0.25) <= 0.03)
        #expect(pipeline.counters.kept + pipeline.counters.sampledOut == 4000)
    }

    @Test func spansOfProtocolsThePolicyDoesNotTraceAreDropped() throws {
        var httpOnly = try Self.pipeline("protocols: [http]")
        #expect(httpOnly.process(Self.tcpSpan()) == nil)
        #expect(httpOnly.process(Self.httpSpan(path: "/")) != nil)
        var tcpOnly = try Self.pipeline("protocols: [tcp]")
        #expect(tcpOnly.process(Self.httpSpan(path: "/")) == nil)
        #expect(tcpOnly.process(Self.tcpSpan()) != nil)
        #expect(httpOnly.counters.excludedByProtocol == 1)
    }
}
