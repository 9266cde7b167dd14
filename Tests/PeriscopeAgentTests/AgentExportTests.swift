import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    /// The agent's OTLP and Prometheus output, read back with the official OpenTelemetry
    /// protobuf classes and prometheus_client's parser.
    @Suite struct AgentExportTests {
        static func exportEnvironment(port: UInt16) -> [String: String] {
            [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_METRIC_EXPORT_INTERVAL": "300",
            ]
        }

        @Test func spansAndMetricsReachAnOTLPReceiverWithResourceAttributesAndHistograms() async throws {
            let receiver = try OTLPReceiver(port: testPort(18701))
            let site = try TemporaryDirectory()
            for item in 1...3 { _ = try site.write("items/\(item)", String(repeating: "i", count: 100)) }
            let server = try TestProcess(
                "python3", ["-m", "http.server", "\(testPort(18520))", "--bind", "127.0.0.1", "--directory", site.path],
                environment: ["OTEL_SERVICE_NAME": "catalogue"]
            )
            try waitForPort(testPort(18520), of: server)
            let agent = try await AgentHarness(
                policy: """
                    ports: [\(testPort(18520))]
                    routes: ["/items/{id}"]
                    resourceAttributes: {deployment.environment: acceptance}
                    """,
                environment: Self.exportEnvironment(port: testPort(18701))
            )
            for path in ["/items/1", "/items/2", "/items/3", "/missing/41", "/missing/42"] {
                try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18520))\(path)"]).wait()
            }
            let serverSpans = try await receiver.waitForSpans(count: 5) { $0.kind == 2 }
            let clientSpans = try await receiver.waitForSpans(count: 5) { $0.kind == 3 }
            try await Task.sleep(for: .milliseconds(800))
            let exit = try agent.stop()

            #expect(serverSpans.count == 5)
            #expect(clientSpans.count == 5)
            #expect(serverSpans.allSatisfy { $0.pid == server.pid })
            let resource = try #require(serverSpans.first?.resource)
            #expect(resource["service.name"] as? String == "catalogue", "OTEL_SERVICE_NAME from the process's own environment")
            #expect((resource["process.executable.name"] as? String)?.hasPrefix("python") == true)
            #expect((resource["host.name"] as? String)?.isEmpty == false)
            #expect(resource["telemetry.sdk.name"] as? String == "periscope")
            #expect(resource["telemetry.sdk.language"] as? String == "swift")
            #expect(resource["deployment.environment"] as? String == "acceptance")
            let curlResource = try #require(clientSpans.first?.resource)
            #expect(curlResource["service.name"] as? String == "curl", "no OTEL_SERVICE_NAME: the executable name")

            #expect(serverSpans.filter { $0.name == "GET /items/{id}" }.count == 3)
            #expect(serverSpans.filter { $0.name == "GET /missing/{id}" }.count == 2, "default route template")
            let item = try #require(serverSpans.first { $0.string("url.path") == "/items/2" })
            #expect(item.string("http.request.method") == "GET")
            #expect(item.string("http.route") == "/items/{id}")
            #expect(item.int("http.response.status_code") == 200)
            #expect(item.int("http.response.body.size") == 100)
            #expect(item.string("server.address") == "127.0.0.1")
            #expect(item.int("server.port") == Int(testPort(18520)))
            #expect(item.string("client.address") == "127.0.0.1")
            #expect(item.int("network.peer.port") == item.int("client.port"))
            #expect(item.statusCode == 0, "200 is not an error")
            #expect(item.traceID.count == 32 && item.spanID.count == 16)
            let missing = serverSpans.filter { $0.string("url.path")?.hasPrefix("/missing/") == true }
            #expect(missing.allSatisfy { $0.statusCode == 0 && $0.int("http.response.status_code") == 404 },
                    "a server's 4xx is the client's fault, not an error of the server span")
            let clientMissing = clientSpans.filter { $0.string("url.path")?.hasPrefix("/missing/") == true }
            #expect(clientMissing.count == 2 && clientMissing.allSatisfy { $0.statusCode == 2 }, "a client's 4xx is an error")
            #expect(clientSpans.allSatisfy { $0.int("server.port") == Int(testPort(18520)) })

            let metrics = receiver.latestMetrics
            func histogramPoints(_ name: String, service: String) -> [[String: Any]] {
                metrics.filter { $0["name"] as? String == name && ($0["resource"] as? [String: Any])?["service.name"] as? String == service }
                    .flatMap { $0["points"] as? [[String: Any]] ?? [] }
            }
            let durations = histogramPoints("http.server.request.duration", service: "catalogue")
            #expect(durations.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 5)
            for point in durations {
                let buckets = point["bucketCounts"] as? [Int] ?? []
                #expect(buckets.reduce(0, +) == point["count"] as? Int)
                #expect(point["bounds"] as? [Double] == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])
            }
            let ok = durations.first { ($0["attributes"] as? [String: Any])?["http.response.status_code"] as? Int == 200 }
            #expect(ok?["count"] as? Int == 3)
            #expect((ok?["attributes"] as? [String: Any])?["http.route"] as? String == "/items/{id}")
            let bodies = histogramPoints("http.server.response.body.size", service: "catalogue")
            let okBodies = bodies.first { ($0["attributes"] as? [String: Any])?["http.response.status_code"] as? Int == 200 }
            #expect(okBodies?["sum"] as? Double == 300)
            #expect(histogramPoints("http.client.request.duration", service: "curl").reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 5)
            let health = metrics.filter { ($0["resource"] as? [String: Any])?["service.name"] as? String == "periscope-agent" }
            #expect(health.contains { $0["name"] as? String == "periscope.agent.events.lost" })
            #expect(health.contains { $0["name"] as? String == "periscope.agent.processes.attached" })
            let request = try #require(receiver.requests.first { $0["signal"] as? String == "traces" })
            #expect(request["contentType"] as? String == "application/x-protobuf")
            #expect(exit["spans_exported"] == 10)
            #expect(exit["spans_dropped"] == 0)
        }

        @Test func gzipAndHeadersFromTheEnvironment() async throws {
            let receiver = try OTLPReceiver(port: testPort(18702))
            let site = try TemporaryDirectory()
            _ = try site.write("a", "a")
            let server = try startPythonServer(port: testPort(18521), directory: site.path)
            var environment = Self.exportEnvironment(port: testPort(18702))
            environment["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip"
            environment["OTEL_EXPORTER_OTLP_HEADERS"] = "x-api-key=a%20b%3Dc,x-tenant=blue"
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18521))]\nprotocols: [http]\n", environment: environment)
            try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18521))/a"]).wait()
            let spans = try await receiver.waitForSpans(count: 2) { _ in true }
            try agent.stop()
            withExtendedLifetime(server) {}

            #expect(spans.count == 2)
            let request = try #require(receiver.requests.first { $0["signal"] as? String == "traces" })
            #expect(request["gzip"] as? Bool == true)
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["x-api-key"] == "a b=c", "percent-decoded")
            #expect(headers["x-tenant"] == "blue")
        }

        /// The policy's export follows edits of the file: spans queued for the old endpoint are
        /// still delivered there, spans after the edit go to the new one, with the edited
        /// resource attributes (a resource is resolved when its batch is sent); each receiver's
        /// metrics count exactly the requests it got spans for.
        @Test func aPolicyEditSwitchesTheExportWithoutLosingQueuedSpans() async throws {
            let first = try OTLPReceiver(port: testPort(18704))
            let second = try OTLPReceiver(port: testPort(18705))
            let site = try TemporaryDirectory()
            _ = try site.write("a", "a")
            let server = try startPythonServer(port: testPort(18527), directory: site.path)
            let policy = { (port: UInt16, team: String) in
                """
                ports: [\(testPort(18527))]
                protocols: [http]
                export: {otlp: {endpoint: "http://127.0.0.1:\(port)"}}
                resourceAttributes: {team: \(team)}
                """
            }
            // Batches wait three seconds: the edit comes while the first spans are still queued.
            let agent = try await AgentHarness(
                policy: policy(testPort(18704), "blue"),
                environment: ["OTEL_BSP_SCHEDULE_DELAY": "3000", "OTEL_METRIC_EXPORT_INTERVAL": "300"])
            for _ in 0..<4 { try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18527))/a"]).wait() }
            _ = try await agent.waitForSpans(count: 4) { $0.isServer }
            #expect(first.spans.isEmpty, "still queued")
            try agent.updatePolicy(policy(testPort(18705), "green"))
            try await Task.sleep(for: .seconds(1))
            for _ in 0..<3 { try TestProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18527))/a"]).wait() }
            let before = try await first.waitForSpans(count: 4) { $0.kind == 2 }
            let after = try await second.waitForSpans(count: 3, timeout: .seconds(20)) { $0.kind == 2 }
            try await Task.sleep(for: .seconds(1))
            let exit = try agent.stop()
            withExtendedLifetime(server) {}

            #expect(before.count == 4 && first.spans.filter { $0.kind == 2 }.count == 4, "what was queued went where it was meant to")
            #expect(after.count == 3 && second.spans.filter { $0.kind == 2 }.count == 3)
            #expect(after.allSatisfy { $0.resource["team"] as? String == "green" }, "resource attributes follow the edit too")
            #expect(exit["spans_dropped"] == 0)
            func requests(_ receiver: OTLPReceiver) -> Int {
                receiver.latestMetrics.filter { $0["name"] as? String == "http.server.request.duration" }
                    .flatMap { $0["points"] as? [[String: Any]] ?? [] }.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
            }
            #expect(requests(first) == 4)
            #expect(requests(second) == 3)
            #expect(agent.process.errorLog.contains("export.closing"))
        }

        @Test func prometheusEndpointCountsEveryRequestEvenWhenNoneIsSampled() async throws {
            let directory = try TemporaryDirectory()
            let nginx = try startNginx(in: directory, port: testPort(18522), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18522));
                    location / { return 200 "hello\\n"; }
                }
                """)
            let agent = try await AgentHarness(
                policy: """
                    pids: [\(nginx.pid)]
                    ports: [\(testPort(18522))]
                    sampling: {sampler: always_off}
                    """,
                arguments: ["--metrics-port", "\(testPort(18706))", "--metrics-address", "127.0.0.1"]
            )
            let client = try TCPClient(port: testPort(18522))
            for i in 0..<10 {
                try client.send("GET /orders/\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
                _ = try client.receive(untilSeeing: "hello\n", times: 1)
            }
            let body = String(repeating: "b", count: 100)
            for _ in 0..<5 {
                try client.send("POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n\(body)")
                _ = try client.receive(untilSeeing: "hello\n", times: 1)
            }
            var samples: [PrometheusSample] = []
            let deadline = ContinuousClock.now + .seconds(10)
            func count() -> Double {
                samples.filter { $0.name == "http_server_request_duration_seconds_count" && $0.labels["service_name"] == "nginx" }
                    .reduce(0) { $0 + $1.value }
            }
            // The agent's own counters are published once a second.
            func sampledOut() -> Double {
                samples.first { $0.name == "periscope_agent_spans_sampled_out_total" }?.value ?? 0
            }
            repeat {
                try await Task.sleep(for: .milliseconds(200))
                samples = try PrometheusSample.parse(try httpGet(port: testPort(18706), path: "/metrics"))
            } while (count() < 15 || sampledOut() < 15) && ContinuousClock.now < deadline
            let notFound = try httpGet(port: testPort(18706), path: "/other")
            let metrics = try agent.stop()

            #expect(count() == 15)
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
                samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
                    .reduce(0) { $0 + $1.value }
            }
            #expect(value("http_server_request_duration_seconds_count", ["http_route": "/orders/{id}", "http_request_method": "GET"]) == 10)
            #expect(value("http_server_request_duration_seconds_count", ["http_route": "/orders", "http_request_method": "POST"]) == 5)
            #expect(value("http_server_request_body_size_bytes_sum", ["service_name": "nginx"]) == 500)
            #expect(value("http_server_request_body_size_bytes_count", ["service_name": "nginx"]) == 15)
            #expect(value("http_server_response_body_size_bytes_sum", ["service_name": "nginx"]) == 15 * 6)
            #expect(value("http_server_request_duration_seconds_bucket", ["service_name": "nginx", "le": "+Inf"]) == 15)
            #expect(value("http_server_request_duration_seconds_sum", ["service_name": "nginx"]) > 0)
            #expect(samples.contains { $0.family == "periscope_agent_events_lost" && $0.name == "periscope_agent_events_lost_total" && $0.value == 0 })
            #expect(value("periscope_agent_processes_attached") == 2, "nginx master and worker")
            #expect(value("periscope_agent_spans_sampled_out_total") >= 15)
            #expect(notFound.contains("/metrics"))
            #expect(try agent.spans.isEmpty, "always_off: nothing printed")
            #expect(metrics["spans_sampled_out"] == 15)
        }

        @Test func malformedEndpointsAndUnknownSamplersFailAtStartNamingTheSetting() throws {
            let directory = try TemporaryDirectory()
            let good = try directory.write("good.yaml", "ports: [\(testPort(18523))]\n")
            let cases: [(policy: String, environment: [String: String], arguments: [String], setting: String)] = [
                (good, ["OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"], [], "OTEL_EXPORTER_OTLP_ENDPOINT"),
                (good, ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http//collector/v1/traces"], [], "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
                (good, ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "broken"], [], "OTEL_EXPORTER_OTLP_HEADERS"),
                (good, [:], ["--metrics-port", "0"], "--metrics-port"),
                (try directory.write("endpoint.yaml", "export: {otlp: {endpoint: \"collector:4318\"}}\n"), [:], [], "spec.export.otlp.endpoint"),
                (try directory.write("sampler.yaml", "sampling: {sampler: sometimes}\n"), [:], [], "spec.sampling.sampler"),
            ]
            for item in cases {
                let agent = try TestProcess(
                    try AgentHarness.executablePath, ["--config", item.policy] + item.arguments, environment: item.environment,
                    separateStandardError: true
                )
                let status = agent.wait()
                #expect(status >> 8 == 2, "exit code 2 for \(item.setting)")
                #expect(agent.errorLog.contains(item.setting), "\(agent.errorLog)")
                #expect(!agent.errorLog.contains("agent.ready"))
            }
        }
    }
}
