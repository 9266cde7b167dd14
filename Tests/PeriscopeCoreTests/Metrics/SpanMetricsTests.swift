import Testing
@testable import PeriscopeCore

@Suite struct SpanMetricsTests {
    static func request(path: String = "/users/{id}", status: Int = 200, kind: Span.Kind = .server, millis: UInt64, body: Int = 0) -> Span {
        var span = SpanFixtures.server
        span.kind = kind
        span.startTimeUnixNano = 1_000_000_000
        span.endTimeUnixNano = 1_000_000_000 + millis * 1_000_000
        span.http?.route = path
        span.http?.statusCode = status
        span.http?.requestBodySize = body
        span.status = status >= 500 ? .error : .unset
        return span
    }

    static func histogram(_ metrics: [Metric], _ name: String) -> [Metric.Point] {
        metrics.first { $0.name == name }?.points ?? []
    }

    @Test func countsDurationsAndBodiesPerSeries() throws {
        var metrics = SpanMetrics(startTimeUnixNano: 1)
        metrics.record(Self.request(millis: 3, body: 10))
        metrics.record(Self.request(millis: 30, body: 20))
        metrics.record(Self.request(status: 503, millis: 2000))
        let all = metrics.metrics()
        let durations = Self.histogram(all, "http.server.request.duration")
        #expect(durations.count == 2)
        let ok = try #require(durations.first { !$0.attributes.contains(Attribute("error.type", .string("503"))) })
        guard case .histogram(let histogram) = ok.value else { Issue.record("not a histogram"); return }
        #expect(histogram.count == 2)
        #expect(abs(histogram.sum - 0.033) < 1e-9)
        #expect(histogram.counts[0] == 1 && histogram.counts[3] == 1, "3 ms ≤ 0.005, 30 ms ≤ 0.05")
        #expect(ok.attributes.contains(Attribute("http.route", .string("/users/{id}"))))
        let bodies = Self.histogram(all, "http.server.request.body.size")
        #expect(bodies.contains { if case .histogram(let h) = $0.value { h.sum == 30 && h.count == 2 } else { false } })
    }

    @Test func clientAndTCPSpansGetTheirOwnInstruments() {
        var metrics = SpanMetrics(startTimeUnixNano: 1)
        metrics.record(Self.request(kind: .client, millis: 1))
        metrics.record(SpanFixtures.tcp)
        let names = Set(metrics.metrics().map(\.name))
        #expect(names.isSuperset(of: ["http.client.request.duration", "periscope.tcp.connection.duration", "periscope.tcp.connection.io"]))
        #expect(!names.contains("http.server.request.duration"))
        let io = metrics.metrics().first { $0.name == "periscope.tcp.connection.io" }
        #expect(io?.points.map(\.value) == [.int(1234), .int(56789)])
    }

    @Test func grpcCallsGetRPCDurationsBesideTheHTTPOnes() throws {
        var metrics = SpanMetrics(startTimeUnixNano: 1)
        for (kind, millis, code) in [(Span.Kind.server, UInt64(4), 0), (.server, 40, 0), (.server, 7, 5), (.client, 9, 0)] {
            var span = Self.request(path: "/helloworld.Greeter/SayHello", kind: kind, millis: millis)
            span.protocolAttributes = [
                Attribute("rpc.system", .string("grpc")), Attribute("rpc.service", .string("helloworld.Greeter")),
                Attribute("rpc.method", .string("SayHello")), Attribute("rpc.grpc.status_code", .int(code)),
                Attribute("rpc.grpc.response.message_count", .int(1)),
            ]
            metrics.record(span)
        }
        let all = metrics.metrics()
        #expect(all.first { $0.name == "rpc.server.duration" }?.unit == "ms")
        let servers = Self.histogram(all, "rpc.server.duration")
        #expect(servers.count == 2, "one series per status code")
        let ok = try #require(servers.first { $0.attributes.contains(Attribute("rpc.grpc.status_code", .int(0))) })
        #expect(!ok.attributes.contains { $0.key == "rpc.grpc.response.message_count" })
        guard case .histogram(let histogram) = ok.value else { Issue.record("not a histogram"); return }
        #expect(histogram.count == 2 && abs(histogram.sum - 44) < 1e-6)
        let clients = Self.histogram(all, "rpc.client.duration")
        #expect(clients.count == 1 && clients[0].attributes.contains { $0.key == "server.port" })
        #expect(Self.histogram(all, "http.server.request.duration").count >= 1)
    }

    @Test func seriesBeyondTheLimitFoldIntoOneOverflowSeries() {
        var metrics = SpanMetrics(startTimeUnixNano: 1, seriesLimit: 10)
        for i in 0..<1000 { metrics.record(Self.request(path: "/p\(i)", millis: 1)) }
        #expect(metrics.seriesCount == 11)
        #expect(metrics.overflowedSpans == 990)
        let overflow = Self.histogram(metrics.metrics(), "http.server.request.duration").first {
            $0.attributes == [Attribute("otel.metric.overflow", .bool(true))]
        }
        guard case .histogram(let histogram)? = overflow?.value else { Issue.record("no overflow series"); return }
        #expect(histogram.count == 990)
    }

    static func query(operation: String, kind: Span.Kind = .client, millis: UInt64, error: String? = nil) -> Span {
        var span = SpanFixtures.tcp
        span.tcp = nil
        span.kind = kind
        span.name = "\(operation) orders"
        span.startTimeUnixNano = 1_000_000_000
        span.endTimeUnixNano = 1_000_000_000 + millis * 1_000_000
        span.protocolAttributes = [
            Attribute("db.system.name", .string("postgresql")), Attribute("db.namespace", .string("shop")),
            Attribute("db.operation.name", .string(operation)), Attribute("db.collection.name", .string("orders")),
            Attribute("db.query.text", .string("\(operation) … FROM orders WHERE id = ?")),
        ]
        if let error {
            span.protocolAttributes += [Attribute("db.response.status_code", .string(error)), Attribute("error.type", .string(error))]
        }
        return span
    }

    @Test func databaseClientOperationsGiveDurationsPerOperationAndError() throws {
        var metrics = SpanMetrics(startTimeUnixNano: 1)
        metrics.record(Self.query(operation: "SELECT", millis: 2))
        metrics.record(Self.query(operation: "SELECT", millis: 20))
        metrics.record(Self.query(operation: "INSERT", millis: 3, error: "23505"))
        metrics.record(Self.query(operation: "SELECT", kind: .server, millis: 1))
        let points = Self.histogram(metrics.metrics(), "db.client.operation.duration")
        #expect(points.count == 2, "one series per operation and error; server spans have no such instrument")
        let select = try #require(points.first { $0.attributes.contains(Attribute("db.operation.name", .string("SELECT"))) })
        guard case .histogram(let histogram) = select.value else { Issue.record("not a histogram"); return }
        #expect(histogram.count == 2 && abs(histogram.sum - 0.022) < 1e-9)
        #expect(select.attributes.contains(Attribute("db.system.name", .string("postgresql"))))
        #expect(select.attributes.contains(Attribute("db.collection.name", .string("orders"))))
        #expect(select.attributes.contains { $0.key == "server.port" })
        #expect(!points.flatMap(\.attributes).contains { $0.key == "db.query.text" }, "the text would make a series per statement")
        let failed = points.first { $0.attributes.contains(Attribute("error.type", .string("23505"))) }
        #expect(failed != nil)
    }

    /// Series found through the recent series (`RecentHTTPSeries`) count what series keyed
    /// one span at a time would: random HTTP spans of a few processes, policies, methods (one
    /// longer than eight bytes), routes, statuses, versions, schemes, peers and kinds, many
    /// falling in the same slots, with and without a series limit that makes them overflow.
    @Test(arguments: [SpanMetrics.defaultSeriesLimit, 7])
    func recentSeriesCountAsTheirKeysDo(seriesLimit: Int) {
        var generator = SystemRandomNumberGenerator()
        var metrics = SpanMetrics(startTimeUnixNano: 1, seriesLimit: seriesLimit)
        var expected: [SpanMetrics.SeriesKey: UInt64] = [:]
        var overflowed: UInt64 = 0
        for _ in 0..<3000 {
            var span = SpanFixtures.server
            span.kind = Bool.random(using: &generator) ? .server : .client
            span.pid = Int32.random(in: 1...3, using: &generator)
            span.executable = ["/usr/sbin/nginx", "/opt/service/bin/a-rather-long-executable-name", nil].randomElement(using: &generator)!
            span.policy = [nil, PolicyID(name: "a"), PolicyID(name: "b")].randomElement(using: &generator)!
            span.peer = SocketAddress(ipv4: 10, 0, 0, UInt8.random(in: 1...2, using: &generator), port: 80)
            var details = HTTPDetails(
                method: ["GET", "POST", "PROPFIND", "VERYLONGMETHOD"].randomElement(using: &generator)!, path: "/", target: "/",
                statusCode: [200, 404, 503, nil].randomElement(using: &generator)!,
                protocolVersion: ["1.1", "1.0"].randomElement(using: &generator)!
            )
            details.scheme = ["http", "https"].randomElement(using: &generator)!
            details.route = ["/", "/users/{id}", nil].randomElement(using: &generator)!
            span.http = details
            span.status = details.statusCode == 503 ? .error : .unset
            metrics.record(span)
            var key = SpanMetrics.SeriesKey(process: ProcessKey(of: span), kind: span.kind, attributes: SpanMetrics.httpAttributes(span, details))
            if expected[key] == nil, expected.count >= seriesLimit {
                key.attributes = SpanMetrics.overflow
                overflowed += 1
            }
            expected[key, default: 0] += 1
        }
        var counted: [SpanMetrics.SeriesKey: UInt64] = [:]
        for (name, kind) in [("http.server.request.duration", Span.Kind.server), ("http.client.request.duration", .client)] {
            for point in Self.histogram(metrics.metrics(), name) {
                guard case .histogram(let histogram) = point.value, let process = point.process else { continue }
                counted[SpanMetrics.SeriesKey(process: process, kind: kind, attributes: point.attributes)] = histogram.count
            }
        }
        #expect(counted == expected)
        #expect(metrics.overflowedSpans == overflowed)
        #expect(overflowed > 0 || seriesLimit > 100)
    }
}
