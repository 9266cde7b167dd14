import Foundation
import PeriscopeTestSupport
import Testing

extension KernelTests {
    /// Trace context written into traffic by the kernel, seen as two nodes see it: one agent
    /// traces only the callers, another only the servers, so neither can link the two ends of
    /// a connection itself; only what travels in the request joins them.
    @Suite struct AgentPropagationTests {
        /// A version 00 `traceparent` of a sampled trace, lowercase hex.
        static func isWellFormed(_ value: String) -> Bool {
            let parts = value.split(separator: "-", omittingEmptySubsequences: false)
            let hex = { (part: Substring, count: Int) in part.count == count && part.allSatisfy { $0.isHexDigit && !$0.isUppercase } }
            return parts.count == 4 && parts[0] == "00" && hex(parts[1], 32) && hex(parts[2], 16) && parts[3] == "01"
        }

        /// The server span of `path` is in the caller's trace with the caller's client span as
        /// parent, and the header the server received names exactly that client span.
        static func expectJoined(
            path: String, callers: AgentHarness, servers: AgentHarness, received: [RecordingServer.Request],
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let client = try #require(
                try await callers.waitForSpans { $0.isClient && $0.path == path }.first, "client span of \(path)", sourceLocation: sourceLocation)
            let server = try #require(
                try await servers.waitForSpans { $0.isServer && $0.path == path }.first, "server span of \(path)", sourceLocation: sourceLocation)
            let request = try #require(received.first { $0.path == path }, "\(path) received", sourceLocation: sourceLocation)
            #expect(request.traceparents == ["00-\(client.traceID)-\(client.spanID)-01"], "\(path): \(request.text)", sourceLocation: sourceLocation)
            #expect(server.traceID == client.traceID && server.parentSpanID == client.spanID,
                    "\(path): server span \(server.traceID)/\(server.parentSpanID ?? "-") under client span \(client.traceID)/\(client.spanID)",
                    sourceLocation: sourceLocation)
        }

        @Test func curlPythonRequestsAndNginxCallsJoinTheServersTraceAcrossAgents() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18961), in: directory)
            let nginx = try startNginx(in: directory, port: testPort(18962), httpBlock: """
                server { listen 127.0.0.1:\(testPort(18962)); location / { proxy_pass http://127.0.0.1:\(testPort(18961)); } }
                """)
            defer { nginx.stop() }
            let own = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let curl = try GatedCaller(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18961))/curl"], in: directory)
            let requests = try GatedCaller(["python3", "-c", "import requests; requests.get('http://127.0.0.1:\(testPort(18961))/requests')"], in: directory)
            let carrying = try GatedCaller(
                ["python3", "-c", "import requests; requests.get('http://127.0.0.1:\(testPort(18961))/own', headers={'traceparent': '\(own)'})"], in: directory)

            let servers = try await AgentHarness(policy: "pids: [\(server.process.pid)]\n")
            let callers = try await AgentHarness(policy: "pids: [\(curl.pid), \(requests.pid), \(carrying.pid), \(nginx.pid)]\n")
            try curl.run()
            try requests.run()
            try carrying.run()
            // curl itself is not traced here: nginx is the caller.
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18962))/nginx"])

            let received = try await server.waitForRequests(4)
            for path in ["/curl", "/requests", "/nginx"] {
                try await Self.expectJoined(path: path, callers: callers, servers: servers, received: received)
            }
            // A caller's own traceparent arrives unchanged, and both ends continue it.
            let carried = try #require(received.first { $0.path == "/own" })
            #expect(carried.traceparents == [own])
            let ownClient = try #require(try await callers.waitForSpans { $0.isClient && $0.path == "/own" }.first)
            let ownServer = try #require(try await servers.waitForSpans { $0.isServer && $0.path == "/own" }.first)
            #expect(ownClient.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && ownClient.parentSpanID == "00f067aa0ba902b7")
            #expect(ownServer.traceID == ownClient.traceID && ownServer.parentSpanID == "00f067aa0ba902b7")

            let callerMetrics = try callers.stop()
            let serverMetrics = try servers.stop()
            #expect(callerMetrics["propagation_headers_injected"] == 3)
            #expect(callerMetrics["propagation_untouched_carrying_traceparent"] == 1)
            #expect(serverMetrics["propagation_headers_injected"] == 0)
            #expect((serverMetrics["propagation_server_contexts"] ?? 0) >= 4)
        }

        @Test func theSameAcrossTwoNetworkNamespacesJoinedByAVethPair() async throws {
            let directory = try TemporaryDirectory()
            let veth = try VethPair(name: "pscprop")
            let server = try RecordingServer(port: testPort(18963), host: VethPair.addressB, in: directory, prefix: veth.inside(veth.b))
            let url = "http://\(VethPair.addressB):\(testPort(18963))"
            let curl = try GatedCaller(["curl", "-s", "-o", "/dev/null", "\(url)/veth-curl"], in: directory, prefix: veth.inside(veth.a))
            let requests = try GatedCaller(
                ["python3", "-c", "import requests; requests.get('\(url)/veth-requests')"], in: directory, prefix: veth.inside(veth.a))

            let servers = try await AgentHarness(policy: "pids: [\(server.process.pid)]\n")
            let callers = try await AgentHarness(policy: "pids: [\(curl.pid), \(requests.pid)]\n")
            try curl.run()
            try requests.run()
            let received = try await server.waitForRequests(2)
            for path in ["/veth-curl", "/veth-requests"] {
                try await Self.expectJoined(path: path, callers: callers, servers: servers, received: received)
            }
            try callers.stop()
            try servers.stop()
        }

        @Test func http2CallsCarryTheirContextInATCPHeaderOption() async throws {
            let directory = try TemporaryDirectory()
            _ = try directory.write("site/h2.txt", "over http/2\n")
            let server = try TestProcess("nghttpd", ["--no-tls", "-d", "\(directory.path)/site", "\(testPort(18966))"])
            defer { server.stop() }
            try waitForPort(testPort(18966), of: server)
            let curl = try GatedCaller(["curl", "-s", "--http2-prior-knowledge", "http://127.0.0.1:\(testPort(18966))/h2.txt"], in: directory)
            let servers = try await AgentHarness(policy: "pids: [\(server.pid)]\n")
            let callers = try await AgentHarness(policy: "pids: [\(curl.pid)]\n")
            try curl.run()
            #expect(curl.process.log == "over http/2\n", "the payload is not edited")
            let client = try #require(try await callers.waitForSpans { $0.isClient && $0.path == "/h2.txt" }.first)
            let served = try #require(try await servers.waitForSpans { $0.isServer && $0.path == "/h2.txt" }.first)
            #expect(served.traceID == client.traceID && served.parentSpanID == client.spanID)
            let callerMetrics = try callers.stop()
            let serverMetrics = try servers.stop()
            #expect(callerMetrics["propagation_options_written"] == 1 && callerMetrics["propagation_headers_injected"] == 0)
            #expect(serverMetrics["propagation_options_read"] == 1)
        }

        /// wrk's requests on `port` for a second, its connections opened the moment `agent` is
        /// ready: each one reaches the server with exactly one `traceparent`, and the agent
        /// counts one header per request.
        static func expectEveryRequestCarriesTraceparent(
            port: UInt16, server: RecordingServer, agent: AgentHarness, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let output = try run("wrk", ["-t1", "-c8", "-d1s", "http://127.0.0.1:\(port)/"])
            try await Task.sleep(for: .milliseconds(300))
            let received = server.requests
            #expect(received.count >= 100, "wrk: \(output)", sourceLocation: sourceLocation)
            let without = received.filter { $0.traceparents.count != 1 || !$0.traceparents.allSatisfy(Self.isWellFormed) }
            #expect(without.isEmpty, "\(without.count) of \(received.count) requests without one traceparent, e.g. \(without.first?.text ?? "")",
                    sourceLocation: sourceLocation)
            let metrics = try agent.stop()
            #expect((metrics["propagation_headers_injected"] ?? 0) >= received.count, sourceLocation: sourceLocation)
        }

        @Test func aClientStartedTheMomentThePortSelectingAgentIsReadyCarriesTraceparentInEveryRequest() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18967), in: directory)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18967))]\n")
            try await Self.expectEveryRequestCarriesTraceparent(port: testPort(18967), server: server, agent: agent)
        }

        /// The requests a client sends on connections to `port` it opened before its process
        /// was selected each carry exactly one `traceparent`, the one its client span names.
        /// When the policy traces the server too, each request's server span is in that trace
        /// with the client span as parent. Spans of other ports (a policy tracing every process
        /// sees the whole machine) are left aside; the agent's header count is then a minimum.
        static func expectHeldConnectionsCarryTraceparent(
            caller: ConnectedCaller, server: RecordingServer, port: UInt16, agent: AgentHarness,
            serverTraced: Bool = false, otherTraffic: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            caller.run()
            #expect(caller.process.log.contains("done"), "\(caller.process.log)", sourceLocation: sourceLocation)
            let received = try await server.waitForRequests(12)
            #expect(received.count == 12, sourceLocation: sourceLocation)
            let held = { (span: PrintedSpan) in (span.path ?? "").hasPrefix("/held-") }
            let clients = try await agent.waitForSpans(count: 12) { $0.isClient && $0.peerPort == Int(port) && held($0) }
            let servers = serverTraced ? try await agent.waitForSpans(count: 12) { $0.isServer && $0.localPort == Int(port) && held($0) } : []
            for request in received {
                let client = clients.first { $0.path == request.path }
                #expect(request.traceparents == [client.map { "00-\($0.traceID)-\($0.spanID)-01" } ?? "its client span"],
                        "\(request.path): \(request.text)", sourceLocation: sourceLocation)
                guard serverTraced else { continue }
                let server = servers.first { $0.path == request.path }
                #expect(client != nil && server?.traceID == client?.traceID && server?.parentSpanID == client?.spanID,
                        "\(request.path): server span \(server.map { "\($0.traceID)/\($0.parentSpanID ?? "-")" } ?? "missing") under client span \(client.map { "\($0.traceID)/\($0.spanID)" } ?? "missing")",
                        sourceLocation: sourceLocation)
            }
            let metrics = try agent.stop()
            let injected = metrics["propagation_headers_injected"] ?? 0
            #expect(otherTraffic ? injected >= 12 : injected == 12, "headers injected: \(injected)", sourceLocation: sourceLocation)
        }

        @Test func connectionsOpenedBeforeTheAgentStartedCarryTraceparentOnceTheirProcessIsTraced() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18968), in: directory)
            let caller = try ConnectedCaller(port: testPort(18968), connections: 4, requests: 3, in: directory)
            let agent = try await AgentHarness(policy: "pids: [\(caller.pid)]\n")
            try await Self.expectHeldConnectionsCarryTraceparent(caller: caller, server: server, port: testPort(18968), agent: agent)
        }

        /// A policy that selects by port only traces every process: the connections any of
        /// them held on that port when the agent started are handed over all the same (the
        /// server's accepted ones are not: it writes answers, not requests), and the server,
        /// traced too, parents its spans to the client's.
        @Test func connectionsOpenedBeforeAPortOnlyAgentStartedCarryTraceparent() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18613), in: directory)
            let caller = try ConnectedCaller(port: testPort(18613), connections: 4, requests: 3, in: directory)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18613))]\n")
            try await Self.expectHeldConnectionsCarryTraceparent(caller: caller, server: server, port: testPort(18613), agent: agent, serverTraced: true)
        }

        /// A policy that selects by executable finds the client running when the agent starts:
        /// its held connections are handed over like those of a process named by PID.
        @Test func connectionsOpenedBeforeAnExecutableSelectingAgentStartedCarryTraceparent() async throws {
            let directory = try TemporaryDirectory()
            let name = "held-python-\(UInt32.random(in: 1...UInt32.max))"
            let python = "\(directory.path)/\(name)"
            try Executables.copy(URL(fileURLWithPath: try TestProcess.which("python3")).resolvingSymlinksInPath().path, to: python)
            let server = try RecordingServer(port: testPort(18615), in: directory)
            let caller = try ConnectedCaller(port: testPort(18615), connections: 4, requests: 3, python: python, in: directory)
            let agent = try await AgentHarness(policy: "executables: [\"*/\(name)\"]\n")
            try await Self.expectHeldConnectionsCarryTraceparent(caller: caller, server: server, port: testPort(18615), agent: agent)
        }

        /// A policy with no selector (`{}`) traces every process of the node on every port: a
        /// service instrumented without restarting anything. The keep-alive connections a
        /// client held when the agent started carry its client spans' `traceparent` from the
        /// first request sent once the agent is ready, and the server's spans (the server is
        /// traced too) are their children. Other processes of the machine are traced as well:
        /// only this test's port is looked at. The agent's `sock_ops` is kept to this test's
        /// cgroup, so that the connections other test runs open meanwhile are not marked for
        /// this agent's header instead of their own agent's.
        @Test func connectionsOpenedBeforeATraceEverythingAgentStartedJoinTheirServersTrace() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18614), in: directory)
            let caller = try ConnectedCaller(port: testPort(18614), connections: 4, requests: 3, in: directory)
            let cgroup = try TestCgroup()
            try cgroup.add(pid: server.process.pid)
            try cgroup.add(pid: caller.pid)
            let agent = try await AgentHarness(policy: "{}\n", arguments: AgentHarness.burstArguments + ["--cgroup-path", cgroup.path])
            try await Self.expectHeldConnectionsCarryTraceparent(
                caller: caller, server: server, port: testPort(18614), agent: agent, serverTraced: true, otherTraffic: true)
        }

        @Test func connectionsOpenedBeforeAPolicySelectedTheirProcessCarryTraceparentFromThen() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18969), in: directory)
            let agent = try await AgentHarness(policy: "executables: [\"/nonexistent/periscope-held\"]\n")
            let caller = try ConnectedCaller(port: testPort(18969), connections: 4, requests: 3, in: directory)
            try agent.updatePolicy("pids: [\(caller.pid)]\n")
            // In force once the self-metrics (SIGUSR1) count the caller as traced.
            let deadline = ContinuousClock.now + .seconds(10)
            while !agent.process.errorLog.contains("processes_attached=1"), ContinuousClock.now < deadline {
                kill(agent.process.pid, SIGUSR1)
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Self.expectHeldConnectionsCarryTraceparent(caller: caller, server: server, port: testPort(18969), agent: agent)
        }

        /// A threaded TCP server on `argv[1]` that sends back whatever it receives.
        static let echoServer = """
            import socketserver, sys
            class Echo(socketserver.BaseRequestHandler):
                def handle(self):
                    while data := self.request.recv(65536):
                        self.request.sendall(data)
            class Server(socketserver.ThreadingTCPServer):
                allow_reuse_address = True
                daemon_threads = True
            server = Server(("127.0.0.1", int(sys.argv[1])), Echo)
            print("ready", flush=True)
            server.serve_forever()
            """

        /// A client of the echo server on `argv[1]` whose first message is no HTTP/1 request:
        /// one exchange, then another once the file `argv[2]` exists, on the same connection.
        static let opaqueClient = """
            import os, socket, sys, time
            connection = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            def exchange(message):
                connection.sendall(message)
                received = b""
                while len(received) < len(message):
                    received += connection.recv(65536)
                return received == message
            print("first", exchange(b"opaque message, the first one\\n"), flush=True)
            while not os.path.exists(sys.argv[2]):
                time.sleep(0.02)
            print("second", exchange(b"opaque message, the second one\\n"), flush=True)
            """

        /// The connections each look for open connections put into the sockhash, in order,
        /// as the agent logged them.
        static func handedOver(_ agent: AgentHarness) -> [Int] {
            agent.process.errorLog.split(separator: "\n").filter { $0.contains("propagation.open_connections.adopted") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("connections=") }.flatMap { Int($0.dropFirst("connections=".count)) }
            }
        }

        /// A policy that traces every process looks for their open connections again at each
        /// change: it hands over only the connections not handed over before. A connection
        /// `sock_ops` marked, whose first message was no HTTP/1 request, carries its context in
        /// a TCP header option and left the sockhash for good at its first segment: the look
        /// that follows a change must not put it back (before: it did, the change's look
        /// counted it with the one it was meant to hand over). A keep-alive connection to a
        /// port the change selects, held since before the agent started, is handed over and
        /// its next request carries its client span's `traceparent`.
        @Test func aPolicyChangeHandsOverOnlyConnectionsNotHandedOverBefore() async throws {
            let directory = try TemporaryDirectory()
            let optionPort = testPort(18971)
            let heldPort = testPort(18972)
            let echo = try TestProcess("python3", ["-c", Self.echoServer, "\(optionPort)"])
            defer { echo.stop() }
            try echo.waitForLog("ready", failure: "the echo server did not start")
            let server = try RecordingServer(port: heldPort, in: directory)
            let held = try ConnectedCaller(port: heldPort, connections: 1, requests: 1, in: directory)
            let agent = try await AgentHarness(policy: "ports: [\(optionPort)]\n")
            try await agent.waitForLog("propagation.open_connections.adopted")

            let gate = "\(directory.path)/opaque-go"
            let opaque = try TestProcess("python3", ["-c", Self.opaqueClient, "\(optionPort)", gate])
            defer { opaque.stop() }
            try opaque.waitForLog("first True", failure: "the first exchange of the opaque client failed")
            var deadline = ContinuousClock.now + .seconds(10)
            while !agent.process.errorLog.contains("propagation_sockets_left=1"), ContinuousClock.now < deadline {
                kill(agent.process.pid, SIGUSR1)
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(agent.process.errorLog.contains("propagation_sockets_left=1"), "the connection carrying the option left the sockhash")

            try agent.updatePolicy("ports: [\(optionPort), \(heldPort)]\n")
            deadline = ContinuousClock.now + .seconds(10)
            while Self.handedOver(agent).count < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(Self.handedOver(agent) == [0, 1], "at the start nothing, at the change the held connection only")

            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            opaque.wait()
            #expect(opaque.log.contains("second True"), "\(opaque.log)")
            held.run()
            let received = try await server.waitForRequests(1)
            let client = try await agent.waitForSpans { $0.isClient && $0.path == "/held-0-0" }.first
            #expect(received.map(\.traceparents) == [[client.map { "00-\($0.traceID)-\($0.spanID)-01" } ?? "its client span"]])
            let metrics = try agent.stop()
            #expect(metrics["propagation_options_written"] == 1 && metrics["propagation_sockets_left"] == 1)
            #expect(metrics["propagation_headers_injected"] == 1)
        }

        static let plain = "GET /plain HTTP/1.1\r\nHost: x\r\nUser-Agent: bytes\r\nAccept: */*\r\n\r\n"
        static let posted = "POST /posted HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"

        @Test func noByteChangesForUntracedProcessesOrWithPropagationNone() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18964), in: directory)
            let untraced = try GatedCaller.raw(port: testPort(18964), chunks: [Self.plain + Self.posted], responses: 2, in: directory)
            let quiet = try GatedCaller.raw(port: testPort(18964), chunks: [Self.plain, Self.posted], responses: 2, in: directory)
            // Propagation is on for the server's agent and for a traced caller's agent whose
            // policy turns it off only for `quiet`.
            let servers = try await AgentHarness(policy: "pids: [\(server.process.pid)]\n")
            let callers = try await AgentHarness(policy: "pids: [\(quiet.pid)]\npropagation: none\n")
            try untraced.run()
            try quiet.run()
            let received = try await server.waitForRequests(4)
            #expect(received.count == 4)
            for request in received {
                let sent = request.path == "/plain" ? Self.plain : Self.posted
                #expect(request.bytes == Array(sent.utf8), "\(request.path) arrived as sent")
            }
            _ = try await callers.waitForSpans(count: 2) { $0.isClient }
            let metrics = try callers.stop()
            #expect(metrics["propagation_headers_injected"] == 0)
            try servers.stop()
        }

        /// A request written in one write leaves in one TCP segment with its `traceparent`
        /// line, as it would have without it (in pieces, each would be a segment of its own:
        /// three transmissions and arrivals, and an ACK, per request); one larger than a page is
        /// left in pieces, its bytes still exactly what was sent plus the line.
        @Test func aRequestWrittenInOneWriteLeavesInOneSegmentWithItsTraceparent() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18970), in: directory)
            let small = "GET /one-segment HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
            let posted = "POST /one-segment-posted HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + String(repeating: "b", count: 3000)
            let large = "POST /in-pieces HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n" + String(repeating: "c", count: 9000)
            let caller = try GatedCaller.raw(port: testPort(18970), chunks: [small, posted, large, small], responses: 4, noDelay: true, in: directory)
            let callers = try await AgentHarness(policy: "pids: [\(caller.pid)]\n")
            try caller.run()
            let received = try await server.waitForRequests(4)
            #expect(received.count == 4)
            for (request, sent) in zip(received, [small, posted, large, small]) {
                let values = request.traceparents
                #expect(values.count == 1 && values.allSatisfy(Self.isWellFormed), "\(request.path): \(request.text)")
                var expected = sent
                expected.insert(contentsOf: "traceparent: \(values.first ?? "")\r\n", at: expected.range(of: "\r\n")!.upperBound)
                #expect(request.bytes == Array(expected.utf8), "\(request.path) is what was sent plus one line")
            }
            let line = try #require(caller.process.log.split(separator: "\n").first { $0.hasPrefix("segments ") }, "\(caller.process.log)")
            let segments = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(9).utf8)) as? [Int])
            #expect(segments.count == 4 && segments[0] == 1 && segments[1] == 1 && segments[3] == 1, "data segments per write: \(segments)")
            let metrics = try callers.stop()
            #expect(metrics["propagation_headers_injected"] == 4)
            #expect(metrics["propagation_untouched_no_room"] == 0)
        }

        @Test func splitPipelinedAndStraddlingWritesAreHandledOrLeftWholeNeverCorrupted() async throws {
            let directory = try TemporaryDirectory()
            let server = try RecordingServer(port: testPort(18965), in: directory)
            let first = "GET /pipelined-1 HTTP/1.1\r\nHost: x\r\n\r\n"
            let second = "GET /pipelined-2 HTTP/1.1\r\nHost: x\r\n\r\n"
            let body = "POST /straddling-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
            let next = "GET /straddling-2 HTTP/1.1\r\nHost: x\r\n\r\n"
            let caller = try GatedCaller.raw(port: testPort(18965), chunks: [
                "GET /split HTTP/1.1\r\nHost: x\r\n", "Accept: */*\r\n\r\n",  // a head in two writes
                first + second,                                              // two requests in one write
                body + "01234", "56789" + next,                              // the end of one and the start of the next
            ], responses: 5, in: directory)
            let callers = try await AgentHarness(policy: "pids: [\(caller.pid)]\n")
            try caller.run()
            let received = try await server.waitForRequests(5)
            #expect(received.count == 5)
            func arrived(_ path: String) throws -> RecordingServer.Request {
                try #require(received.first { $0.path == path }, "\(path) received")
            }
            // Left whole, byte for byte.
            #expect(try arrived("/split").bytes == Array("GET /split HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n".utf8))
            #expect(try arrived("/pipelined-2").bytes == Array(second.utf8))
            #expect(try arrived("/straddling-2").bytes == Array(next.utf8))
            // Handled: one traceparent line after the request line, nothing else changed.
            for (path, sent) in [("/pipelined-1", first), ("/straddling-1", body + "0123456789")] {
                let request = try arrived(path)
                let values = request.traceparents
                #expect(values.count == 1 && values.allSatisfy(Self.isWellFormed), "\(path): \(request.text)")
                let line = "traceparent: \(values.first ?? "")\r\n"
                var expected = sent
                expected.insert(contentsOf: line, at: expected.range(of: "\r\n")!.upperBound)
                #expect(request.bytes == Array(expected.utf8), "\(path) is what was sent plus one line")
            }
            let spans = try await callers.waitForSpans(count: 5) { $0.isClient }
            for path in ["/pipelined-1", "/straddling-1"] {
                let span = try #require(spans.first { $0.path == path })
                #expect(try arrived(path).traceparents == ["00-\(span.traceID)-\(span.spanID)-01"], "\(path) names its client span")
            }
            let metrics = try callers.stop()
            #expect(metrics["propagation_headers_injected"] == 2)
            #expect(metrics["propagation_untouched_split_head"] == 1)
            #expect(metrics["propagation_untouched_pipelined"] == 1)
        }
    }
}
