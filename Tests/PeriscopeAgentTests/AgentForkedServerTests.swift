import Foundation
import PeriscopeTestSupport
import Testing

/// Sockets accepted by one process and served by another: the connection belongs to the
/// process that reads and writes it, whole, with that process's executable and linked to its
/// client; the process that only accepted gives no span.
extension KernelTests {
    @Suite struct AgentForkedServerTests {
        /// Checks each server span of `path`s: served by a process other than `acceptor`
        /// running python, the child of curl's client span, and nothing else in the output.
        func expectServedElsewhere(_ spans: [PrintedSpan], acceptor: Int32, paths: [String], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(spans.count == 2 * paths.count, "\(spans.map { "\($0.kind) \($0.name) \($0.pid)" })", sourceLocation: sourceLocation)
            #expect(spans.allSatisfy { $0.pid != acceptor }, "the acceptor gives no span", sourceLocation: sourceLocation)
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.compactMap(\.path) == paths, sourceLocation: sourceLocation)
            for span in servers {
                #expect(span.statusCode == 200 && span.executable.contains("python"), "\(span.executable)", sourceLocation: sourceLocation)
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent?.traceID == span.traceID && parent?.path == span.path && parent?.executable.hasSuffix("curl") == true,
                        sourceLocation: sourceLocation)
            }
        }

        /// python's socketserver.ForkingTCPServer: each request served by a child forked after
        /// accept, which exits when done.
        @Test func forkingServerChildrenServeTheConnectionsTheirParentAccepted() async throws {
            let directory = try TemporaryDirectory()
            let script = try directory.write("forking.py", """
                import socketserver, sys
                from http.server import BaseHTTPRequestHandler

                class Handler(BaseHTTPRequestHandler):
                    def do_GET(self):
                        body = b"forked\\n"
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)

                    def log_message(self, *args):
                        pass

                socketserver.ForkingTCPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
                """)
            let server = try TestProcess("python3", [script, "\(testPort(18571))"])
            defer { server.stop() }
            try waitForPort(testPort(18571), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18571))]\n")
            let paths = ["/one", "/two", "/three"]
            for path in paths { try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18571))\(path)"]) }
            _ = try await agent.waitForSpans(count: 2 * paths.count, timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans
            expectServedElsewhere(spans, acceptor: server.pid, paths: paths)
            #expect(Set(spans.filter(\.isServer).map(\.pid)).count == paths.count, "one child per connection")
        }

        /// An acceptor passing each connection to a worker process over a Unix socket
        /// (SCM_RIGHTS) and closing its own descriptor; the worker reads and answers.
        @Test func descriptorPassedWithSCMRightsIsServedByTheWorker() async throws {
            let directory = try TemporaryDirectory()
            let script = try directory.write("passing.py", """
                import os, socket, sys
                parent_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                if os.fork() == 0:
                    parent_end.close()
                    while True:
                        _, fds, _, _ = socket.recv_fds(worker_end, 1, 1)
                        if not fds:
                            os._exit(0)
                        conn = socket.socket(fileno=fds[0])
                        request = b""
                        while b"\\r\\n\\r\\n" not in request:
                            chunk = conn.recv(4096)
                            if not chunk:
                                break
                            request += chunk
                        if b"\\r\\n\\r\\n" in request:
                            conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 7\\r\\nConnection: close\\r\\n\\r\\npassed\\n")
                        conn.close()
                worker_end.close()
                listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
                while True:
                    conn, _ = listener.accept()
                    socket.send_fds(parent_end, [b"x"], [conn.fileno()])
                    conn.close()
                """)
            let server = try TestProcess("python3", [script, "\(testPort(18572))"])
            defer { server.stop() }
            try waitForPort(testPort(18572), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18572))]\n")
            let paths = ["/a", "/b"]
            for path in paths { try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18572))\(path)"]) }
            _ = try await agent.waitForSpans(count: 2 * paths.count, timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans
            expectServedElsewhere(spans, acceptor: server.pid, paths: paths)
            #expect(Set(spans.filter(\.isServer).map(\.pid)).count == 1, "one worker serves both")
        }

        /// A policy selecting PostgreSQL by executable, not by port: the postmaster is selected,
        /// and the kernel passes that on to each backend it forks, so the backend is traced from
        /// its connection's first bytes (the startup message that tells the protocol) and its
        /// statements' spans are exact and linked to psql's.
        @Test func backendsForkedByAnExecutableSelectedPostmasterAreTracedFromTheirFirstBytes() async throws {
            let server = try PostgreSQLServer(port: testPort(18574))
            try server.psql("CREATE TABLE items (id integer PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'tea')")
            let script = try server.directory.write("statements.sql", """
                SELECT name FROM items WHERE id = 1;
                UPDATE items SET name = 'coffee' WHERE id = 1;
                SELECT * FROM missing_table;
                """)
            // psql is selected when the agent reads its exec, which a psql that connects at once
            // can outrun: each first tries a listener that never answers (libpq gives up after
            // connect_timeout and tries the next host), so its own connection comes after that.
            let holder = try server.directory.write("holder.py", """
                import socket, sys
                listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
                held = []
                while True:
                    held.append(listener.accept()[0])
                """)
            let silent = try TestProcess("python3", [holder, "\(testPort(18575))"])
            defer { silent.stop() }
            try waitForPort(testPort(18575), of: silent)
            let agent = try await AgentHarness(policy: "executables: [\"*/postgres\", \"*/psql\"]\n")
            var psqls: [Int32] = []
            for _ in 0..<3 {
                let target = "host=127.0.0.1,127.0.0.1 port=\(testPort(18575)),\(testPort(18574)) user=postgres connect_timeout=2"
                psqls.append(try runChecked("psql", ["-d", target, "-q", "-f", script]).pid)
            }
            let onPort: (PrintedSpan) -> Bool = { $0.localPort == Int(testPort(18574)) || $0.peerPort == Int(testPort(18574)) }
            _ = try await agent.waitForSpans(count: 18, timeout: .seconds(15)) { onPort($0) && $0.string("db.system.name") == "postgresql" }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.filter(onPort)
            #expect(spans.filter(\.isTCP).isEmpty, "every backend decoded from its first bytes: \(spans.filter(\.isTCP).map { "\($0.pid) \($0.executable)" })")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(clients.count == 9 && servers.count == 9, "\(spans.map { "\($0.kind) \($0.name) \($0.pid)" })")
            #expect(clients.allSatisfy { psqls.contains($0.pid) })
            #expect(servers.allSatisfy { $0.executable.hasSuffix("/postgres") && $0.pid != server.pid })
            #expect(Set(servers.map(\.pid)).count == 3, "one backend per connection")
            #expect(servers.map(\.name) == Array(repeating: ["SELECT items", "UPDATE items", "SELECT missing_table"], count: 3).flatMap { $0 })
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent?.traceID == span.traceID && parent?.queryText == span.queryText, "\(span.name) is its client's child")
            }
            #expect(metrics["decode_errors"] == 0)
        }

        /// http.server's CGI handler: the server reads the request and writes the status line,
        /// then a forked child executes the script with the socket as its standard output and
        /// writes the rest, ending the response by exiting. One exchange, its status and body
        /// size whole, not an error, linked to curl.
        @Test func cgiResponseWrittenByTheExecutedScriptIsOneExchange() async throws {
            let directory = try TemporaryDirectory()
            let script = try directory.write("cgi-bin/hello.py", """
                #!/usr/bin/python3
                print("Content-Type: text/plain")
                print()
                print("hello from cgi")
                """)
            chmod(script, 0o755)
            let server = try TestProcess("python3", ["-m", "http.server", "--cgi", "\(testPort(18573))", "--bind", "127.0.0.1", "--directory", directory.path])
            defer { server.stop() }
            try waitForPort(testPort(18573), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18573))]\n")
            for query in ["one", "two"] { try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18573))/cgi-bin/hello.py?\(query)"]) }
            _ = try await agent.waitForSpans(count: 4, timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans
            #expect(spans.count == 4, "\(spans.map { "\($0.kind) \($0.name) \($0.pid)" })")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 2 && clients.count == 2)
            for span in servers {
                #expect(span.statusCode == 200 && span.responseBodySize == 15 && span.status != "STATUS_CODE_ERROR", "\(span.status)")
                #expect(span.pid != server.pid && span.executable.contains("python"))
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent?.traceID == span.traceID && parent?.statusCode == 200)
            }
        }
    }
}
