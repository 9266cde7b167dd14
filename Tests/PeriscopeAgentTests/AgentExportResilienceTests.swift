import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    /// Export under a dead receiver, and sampling decided alike on every hop.
    @Suite struct AgentExportResilienceTests {
        /// Sends `GET /load/<n>` on one keep-alive connection, about 80 a second, for `duration`.
        static func load(_ client: TCPClient, for duration: Duration, counter: inout Int) async throws {
            let end = ContinuousClock.now + duration
            while ContinuousClock.now < end {
                try client.send("GET /load/\(counter) HTTP/1.1\r\nHost: x\r\n\r\n")
                _ = try client.receive(untilSeeing: "ok\n", times: 1)
                counter += 1
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        @Test func receiverDownForAMinuteUnderSteadyLoadIsCountedAndExportResumes() async throws {
            let receiver = try OTLPReceiver(port: testPort(18703))
            let directory = try TemporaryDirectory()
            let nginx = try startNginx(in: directory, port: testPort(18524), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18524));
                    location / { return 200 "ok\\n"; }
                }
                """)
            let agent = try await AgentHarness(
                policy: "pids: [\(nginx.pid)]\nports: [\(testPort(18524))]\nprotocols: [http]\n",
                arguments: ["--output", "none"],
                environment: [
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(testPort(18703))",
                    "OTEL_BSP_SCHEDULE_DELAY": "200",
                    "OTEL_METRIC_EXPORT_INTERVAL": "2000",
                    // Short enough that a batch is given up during the outage and counted.
                    "PERISCOPE_EXPORT_RETRY_TIMEOUT": "15000",
                ]
            )
            let client = try TCPClient(port: testPort(18524))
            var sent = 0
            try await Self.load(client, for: .seconds(8), counter: &sent)
            let rssBefore = residentKiB(of: agent.process.pid)

            receiver.kill()
            try await Self.load(client, for: .seconds(60), counter: &sent)
            let rssDuring = residentKiB(of: agent.process.pid)

            let receivedBeforeRestart = Set(receiver.spans.map(\.spanID))
            try receiver.start()
            try await Self.load(client, for: .seconds(5), counter: &sent)
            let resumed = try await receiver.waitForSpans(count: 1, timeout: .seconds(15)) {
                !receivedBeforeRestart.contains($0.spanID)
            }
            try await Task.sleep(for: .seconds(1))
            let exit = try agent.stop()
            let delivered = Set(receiver.spans.filter { $0.kind == 2 }.map(\.spanID))

            #expect(!resumed.isEmpty, "export resumed by itself once the receiver was back")
            #expect(exit["spans_emitted"] == sent)
            #expect(delivered.count + (exit["spans_dropped"] ?? -1) == sent,
                    "sent \(sent), delivered \(delivered.count), dropped \(exit["spans_dropped"] ?? -1)")
            #expect((exit["spans_dropped_queue_full"] ?? 0) > 0)
            #expect((exit["spans_dropped_export_failed"] ?? 0) > 0)
            #expect(exit["export_failures"] ?? 0 > 0)
            #expect(Double(rssDuring) <= Double(rssBefore) * 1.10, "RSS \(rssBefore) KiB before, \(rssDuring) KiB after 60 s down")
            #expect(agent.process.errorLog.contains("export.failing"))
            #expect(agent.process.errorLog.contains("export.recovered"))
        }

        @Test func parentBasedRatioKeepsAQuarterOfRootsAndTwoHopTracesWhole() async throws {
            let directory = try TemporaryDirectory()
            let nginx = try startNginx(in: directory, port: testPort(18525), httpBlock: """
                server {
                    listen 127.0.0.1:\(testPort(18525));
                    location /direct/ { return 200 "ok\\n"; }
                    location /hop/ { proxy_pass http://127.0.0.1:\(testPort(18526)); }
                }
                server {
                    listen 127.0.0.1:\(testPort(18526));
                    location / { return 200 "ok\\n"; }
                }
                """)
            let agent = try await AgentHarness(policy: """
                pids: [\(nginx.pid)]
                protocols: [http]
                sampling: {sampler: parentbased_traceidratio, ratio: "0.25"}
                """)
            let client = try TCPClient(port: testPort(18525))
            for first in stride(from: 0, to: 4000, by: 10) {
                let batch = (first..<(first + 10)).map { "GET /direct/\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }
                try client.send(batch.joined())
                _ = try client.receive(untilSeeing: "ok\n", times: 10)
            }
            var sampledTraces: Set<String> = []
            var unsampledTraces: Set<String> = []
            for i in 0..<200 {
                let traceID = (0..<4).map { _ in String(format: "%08x", UInt32.random(in: 1...UInt32.max)) }.joined()
                let sampled = i % 2 == 0
                if sampled { sampledTraces.insert(traceID) } else { unsampledTraces.insert(traceID) }
                let traceparent = "00-\(traceID)-00f067aa0ba902b7-0\(sampled ? 1 : 0)"
                try client.send("GET /hop/\(i) HTTP/1.1\r\nHost: x\r\ntraceparent: \(traceparent)\r\n\r\n")
                _ = try client.receive(untilSeeing: "ok\n", times: 1)
            }
            // Everything decided so far is printed by the time the agent has stopped.
            _ = try await agent.waitForSpans(count: 880, timeout: .seconds(30)) { $0.path?.hasPrefix("/direct/") == true }
            let metrics = try agent.stop()
            let spans = try agent.spans

            let roots = spans.filter { $0.path?.hasPrefix("/direct/") == true && $0.isServer }
            #expect(abs(roots.count - 1000) <= 120, "kept \(roots.count) of 4000 roots; 25% ± 3% is 880…1120")
            let byTrace = Dictionary(grouping: spans.filter { $0.path?.hasPrefix("/hop/") == true }, by: \.traceID)
            #expect(Set(byTrace.keys) == sampledTraces, "every sampled trace kept, no unsampled one")
            for (trace, hops) in byTrace {
                #expect(hops.count == 3, "trace \(trace): nginx server, nginx → upstream client, upstream server")
                #expect(hops.filter(\.isServer).count == 2 && hops.filter(\.isClient).count == 1)
            }
            #expect(metrics["spans_sampled_out"] == 4000 - roots.count + 3 * unsampledTraces.count)
        }
    }
}
