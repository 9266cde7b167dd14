/// RED metrics computed from spans: HTTP request durations and body sizes per server
/// and client, database client operation durations, RPC (gRPC) call durations, TCP connection durations and bytes. It sees every span the policy
/// traces, sampled or not, so counts are exact whatever the sampler keeps.
///
/// Series are keyed by process and by the low-cardinality attributes OpenTelemetry's
/// HTTP semantic conventions name. Past `seriesLimit` series, new ones are folded into
/// one per process and kind marked `otel.metric.overflow=true`, so memory stays bounded
/// whatever the traffic.
public struct SpanMetrics: Sendable {
    public static let defaultSeriesLimit = 2000

    public let seriesLimit: Int
    /// When the counting started; the start time of every series.
    public let startTimeUnixNano: UInt64
    /// Spans counted in an overflow series.
    public private(set) var overflowedSpans: UInt64 = 0

    struct SeriesKey: Hashable {
        var process: ProcessKey
        var kind: Span.Kind
        var attributes: [Attribute]
    }

    /// Recorded into for every HTTP span: its histograms held in line.
    struct HTTPSeries {
        var duration = InlineHistogram(bounds: Histogram.durationBounds)
        var requestBody = InlineHistogram(bounds: Histogram.defaultBounds)
        var responseBody = InlineHistogram(bounds: Histogram.defaultBounds)
    }

    struct TCPSeries {
        var duration = Histogram(bounds: Histogram.durationBounds)
        var bytesSent: Int64 = 0
        var bytesReceived: Int64 = 0
    }

    /// Each HTTP series' place in `httpSeries`.
    var http: [SeriesKey: Int] = [:]
    var httpSeries: [HTTPSeries] = []
    /// The series of recent HTTP spans, found without making and hashing their keys.
    private var recentHTTP = RecentHTTPSeries()
    var tcp: [SeriesKey: TCPSeries] = [:]
    /// `db.client.operation.duration`, per OpenTelemetry's database metric conventions.
    var database: [SeriesKey: Histogram] = [:]
    /// RPC call durations in milliseconds, as the RPC conventions' `rpc.*.duration` count them.
    var rpc: [SeriesKey: Histogram] = [:]

    public init(startTimeUnixNano: UInt64, seriesLimit: Int = SpanMetrics.defaultSeriesLimit) {
        self.startTimeUnixNano = startTimeUnixNano
        self.seriesLimit = Swift.max(seriesLimit, 1)
    }

    /// Number of series held.
    public var seriesCount: Int { http.count + tcp.count + database.count + rpc.count }

    static let overflow = [Attribute("otel.metric.overflow", .bool(true))]

    public mutating func record(_ span: Span) {
        let seconds = Double(span.durationNanos) / 1e9
        // An HTTP span of a series seen lately (most are): its series found by what decides its
        // key, compared as it is (no attribute list made, no string hashed).
        if span.protocolAttributes.isEmpty, let series = span.readHTTPInPlace({ recentHTTPSeries(of: span, $0) }) ?? nil {
            if series.overflowed { overflowedSpans += 1 }
            span.readHTTPInPlace { httpSeries[series.index].record(seconds: seconds, details: $0) }
            return
        }
        let process = ProcessKey(of: span)
        if let details = span.http {
            let series = httpSeriesIndex(SeriesKey(process: process, kind: span.kind, attributes: Self.httpAttributes(span, details)))
            if series.overflowed { overflowedSpans += 1 }
            httpSeries[series.index].record(seconds: seconds, details: details)
            if let attributes = Self.rpcAttributes(span) {
                var key = SeriesKey(process: process, kind: span.kind, attributes: attributes)
                if rpc[key] == nil, seriesCount >= seriesLimit {
                    key.attributes = Self.overflow
                    overflowedSpans += 1
                }
                rpc[key, default: Histogram(bounds: Histogram.defaultBounds)].record(seconds * 1000)
            }
        } else if let details = span.tcp {
            var key = SeriesKey(process: process, kind: span.kind, attributes: Self.tcpAttributes(span))
            if tcp[key] == nil, seriesCount >= seriesLimit {
                key.attributes = Self.overflow
                overflowedSpans += 1
            }
            tcp[key, default: TCPSeries()].record(seconds: seconds, details: details)
        } else if span.kind == .client, let attributes = Self.databaseAttributes(span) {
            var key = SeriesKey(process: process, kind: span.kind, attributes: attributes)
            if database[key] == nil, seriesCount >= seriesLimit {
                key.attributes = Self.overflow
                overflowedSpans += 1
            }
            database[key, default: Histogram(bounds: Histogram.durationBounds)].record(seconds)
        }
    }

    /// The series of an HTTP span without protocol attributes, as `recentHTTP` holds it or
    /// else found by its key and kept there; nil for a method too long for `recentHTTP`.
    private mutating func recentHTTPSeries(of span: Span, _ http: borrowing HTTPDetails) -> (index: Int, overflowed: Bool)? {
        guard let method = http.withMethodBytes({ RecentHTTPSeries.Method($0) }) else { return nil }
        let slot = RecentHTTPSeries.slot(span, http, method)
        if let recent = recentHTTP.find(span, http, method: method, slot: slot) { return recent }
        let series = httpSeriesIndex(SeriesKey(process: ProcessKey(of: span), kind: span.kind, attributes: Self.httpAttributes(span, copy http)))
        recentHTTP.keep(.init(of: span, http, method: method), slot: slot, index: series.index, overflowed: series.overflowed)
        return series
    }

    /// The place in `httpSeries` of the series of `key`, made when there is none; past
    /// `seriesLimit` series, the overflow series of its process and kind (`overflowed`).
    private mutating func httpSeriesIndex(_ key: SeriesKey) -> (index: Int, overflowed: Bool) {
        if let index = http[key] { return (index, false) }
        var key = key
        var overflowed = false
        if seriesCount >= seriesLimit {
            key.attributes = Self.overflow
            overflowed = true
            if let index = http[key] { return (index, true) }
        }
        http[key] = httpSeries.count
        httpSeries.append(HTTPSeries())
        return (httpSeries.count - 1, overflowed)
    }

    /// The attributes of a database client operation's series: system, namespace, operation,
    /// collection, error and server; nil for spans that are no database operation.
    static func databaseAttributes(_ span: Span) -> [Attribute]? {
        guard span.protocolAttributes.contains(where: { $0.key == "db.system.name" }) else { return nil }
        var attributes = span.protocolAttributes.filter { databaseSeriesKeys.contains($0.key) }
        attributes.append(Attribute("server.address", .string(span.peer.host)))
        attributes.append(Attribute("server.port", .int(Int(span.peer.port))))
        return attributes
    }

    /// Span attributes that key `db.client.operation.duration` (never the query text).
    static let databaseSeriesKeys: Set<String> = [
        "db.system.name", "db.namespace", "db.operation.name", "db.collection.name", "db.response.status_code", "error.type",
    ]

    static func httpAttributes(_ span: Span, _ http: HTTPDetails) -> [Attribute] {
        let known = Span.semanticConventionMethods.contains(http.method)
        var attributes = [Attribute("http.request.method", .string(known ? http.method : "_OTHER"))]
        if let status = http.statusCode { attributes.append(Attribute("http.response.status_code", .int(status))) }
        if span.kind == .server, let route = http.route { attributes.append(Attribute("http.route", .string(route))) }
        attributes.append(Attribute("network.protocol.name", .string("http")))
        attributes.append(Attribute("network.protocol.version", .string(http.protocolVersion)))
        if span.kind == .client {
            attributes.append(Attribute("server.address", .string(span.peer.host)))
            attributes.append(Attribute("server.port", .int(Int(span.peer.port))))
        }
        attributes.append(Attribute("url.scheme", .string(http.scheme)))
        if span.status == .error {
            attributes.append(Attribute("error.type", .string(http.statusCode.map(String.init) ?? "_OTHER")))
        }
        return attributes
    }

    /// The RPC conventions' attributes of a span that is an RPC (`rpc.system` set); nil for others.
    static func rpcAttributes(_ span: Span) -> [Attribute]? {
        guard span.protocolAttributes.contains(where: { $0.key == "rpc.system" }) else { return nil }
        var attributes = span.protocolAttributes.filter {
            ["rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code"].contains($0.key)
        }
        if span.kind == .client {
            attributes.append(Attribute("server.address", .string(span.peer.host)))
            attributes.append(Attribute("server.port", .int(Int(span.peer.port))))
        }
        return attributes
    }

    static func tcpAttributes(_ span: Span) -> [Attribute] {
        switch span.kind {
        case .server:
            [Attribute("network.transport", .string("tcp")), Attribute("server.port", .int(Int(span.local.port)))]
        case .client:
            [
                Attribute("network.transport", .string("tcp")),
                Attribute("server.address", .string(span.peer.host)),
                Attribute("server.port", .int(Int(span.peer.port))),
            ]
        case .internal:
            [Attribute("network.transport", .string("tcp"))]
        }
    }

    /// The instruments with at least one series, cumulative since `startTimeUnixNano`.
    public func metrics() -> [Metric] {
        func point(_ key: SeriesKey, _ value: Metric.Value, _ extra: [Attribute] = []) -> Metric.Point {
            Metric.Point(process: key.process, attributes: key.attributes + extra, startTimeUnixNano: startTimeUnixNano, value: value)
        }
        var result: [Metric] = []
        for (kind, side) in [(Span.Kind.server, "server"), (.client, "client")] {
            let series = http.filter { $0.key.kind == kind }.sorted { $0.key.process.pid < $1.key.process.pid }
            guard !series.isEmpty else { continue }
            result.append(Metric(
                name: "http.\(side).request.duration", description: "Duration of HTTP \(side) requests.",
                unit: "s", kind: .histogram, points: series.map { point($0.key, .histogram(httpSeries[$0.value].duration.histogram)) }
            ))
            result.append(Metric(
                name: "http.\(side).request.body.size", description: "Size of HTTP \(side) request bodies.",
                unit: "By", kind: .histogram, points: series.map { point($0.key, .histogram(httpSeries[$0.value].requestBody.histogram)) }
            ))
            result.append(Metric(
                name: "http.\(side).response.body.size", description: "Size of HTTP \(side) response bodies.",
                unit: "By", kind: .histogram, points: series.map { point($0.key, .histogram(httpSeries[$0.value].responseBody.histogram)) }
            ))
        }
        let operations = database.sorted { $0.key.process.pid < $1.key.process.pid }
        if !operations.isEmpty {
            result.append(Metric(
                name: "db.client.operation.duration", description: "Duration of database client operations.",
                unit: "s", kind: .histogram, points: operations.map { point($0.key, .histogram($0.value)) }
            ))
        }
        for (kind, side) in [(Span.Kind.server, "server"), (.client, "client")] {
            let series = rpc.filter { $0.key.kind == kind }.sorted { $0.key.process.pid < $1.key.process.pid }
            guard !series.isEmpty else { continue }
            result.append(Metric(
                name: "rpc.\(side).duration", description: "Duration of RPC \(side) calls.",
                unit: "ms", kind: .histogram, points: series.map { point($0.key, .histogram($0.value)) }
            ))
        }
        let connections = tcp.sorted { $0.key.process.pid < $1.key.process.pid }
        if !connections.isEmpty {
            result.append(Metric(
                name: "periscope.tcp.connection.duration", description: "Duration of TCP connections.",
                unit: "s", kind: .histogram, points: connections.map { point($0.key, .histogram($0.value.duration)) }
            ))
            result.append(Metric(
                name: "periscope.tcp.connection.io", description: "Bytes moved over TCP connections by the traced process.",
                unit: "By", kind: .counter,
                points: connections.flatMap {
                    [
                        point($0.key, .int($0.value.bytesSent), [Attribute("network.io.direction", .string("transmit"))]),
                        point($0.key, .int($0.value.bytesReceived), [Attribute("network.io.direction", .string("receive"))]),
                    ]
                }
            ))
        }
        return result
    }
}

extension SpanMetrics.HTTPSeries {
    mutating func record(seconds: Double, details: HTTPDetails) {
        duration.record(seconds)
        if let size = details.requestBodySize { requestBody.record(Double(size)) }
        if let size = details.responseBodySize { responseBody.record(Double(size)) }
    }
}

extension SpanMetrics.TCPSeries {
    mutating func record(seconds: Double, details: TCPDetails) {
        duration.record(seconds)
        bytesSent += Int64(details.bytesSent)
        bytesReceived += Int64(details.bytesReceived)
    }
}
