import Testing
@testable import PeriscopeCore

@Suite struct PrometheusTextFormatterTests {
    @Test(arguments: [
        ("http.server.request.duration", "s", Metric.Kind.histogram, "http_server_request_duration_seconds"),
        ("http.server.request.body.size", "By", .histogram, "http_server_request_body_size_bytes"),
        ("periscope.agent.events.lost", "{event}", .counter, "periscope_agent_events_lost_total"),
        ("periscope.tcp.connection.io", "By", .counter, "periscope_tcp_connection_io_bytes_total"),
        ("periscope.agent.processes.attached", "{process}", .gauge, "periscope_agent_processes_attached"),
    ])
    func usesConventionalNames(name: String, unit: String, kind: Metric.Kind, expected: String) {
        let metric = Metric(name: name, description: "", unit: unit, kind: kind, points: [])
        #expect(PrometheusTextFormatter.prometheusName(metric) == expected)
    }

    @Test func writesCumulativeBucketsSumAndCountAndMergesProcessesOfOneService() {
        var histogram = Histogram(bounds: [0.1, 1])
        histogram.record(0.05)
        histogram.record(0.5)
        let point = { (pid: Int32) in
            Metric.Point(process: ProcessKey(pid: pid, executable: "/bin/app"), attributes: [Attribute("http.route", .string("/a\"b"))],
                         startTimeUnixNano: 0, value: .histogram(histogram))
        }
        let metric = Metric(name: "http.server.request.duration", description: "Duration.", unit: "s", kind: .histogram,
                            points: [point(1), point(2)])
        let text = PrometheusTextFormatter.format([metric]) { _ in "app" }
        #expect(text == """
            # HELP http_server_request_duration_seconds Duration.
            # TYPE http_server_request_duration_seconds histogram
            http_server_request_duration_seconds_bucket{service_name="app",http_route="/a\\"b",le="0.1"} 2
            http_server_request_duration_seconds_bucket{service_name="app",http_route="/a\\"b",le="1"} 4
            http_server_request_duration_seconds_bucket{service_name="app",http_route="/a\\"b",le="+Inf"} 4
            http_server_request_duration_seconds_sum{service_name="app",http_route="/a\\"b"} 1.1
            http_server_request_duration_seconds_count{service_name="app",http_route="/a\\"b"} 4

            """)
    }
}
