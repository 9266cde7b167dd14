import Foundation
import PeriscopeTestSupport
import Testing

/// Database protocols through the real agent: Debian's servers (PostgreSQL, MariaDB, Redis)
/// started for the test, real clients and drivers, spans read on both ends.
extension KernelTests {
    @Suite struct AgentDatabaseTests {
        /// Each server span is the child of the client span of the same statement, in its trace.
        func expectLinked(_ servers: [PrintedSpan], to clients: [PrintedSpan], sourceLocation: SourceLocation = #_sourceLocation) {
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(
                    parent?.traceID == span.traceID && parent?.queryText == span.queryText && parent?.name == span.name,
                    "\(span.name) [\(span.queryText ?? "")] is its client's child", sourceLocation: sourceLocation
                )
            }
        }

        /// redis-cli against redis-server: one database span per command on each end, the
        /// value never in the query text, the server's span the child of the client's.
        @Test func redisCommandsGiveDatabaseSpansOnBothEnds() async throws {
            let directory = try TemporaryDirectory()
            let server = try TestProcess("redis-server", ["--port", "\(testPort(18532))", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path])
            defer { server.stop() }
            try waitForPort(testPort(18532))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18532))]\n")
            try run("redis-cli", ["-p", "\(testPort(18532))", "SET", "greeting", "secret-value"])
            try run("redis-cli", ["-p", "\(testPort(18532))", "GET", "greeting"])
            try run("redis-cli", ["-p", "\(testPort(18532))", "LPUSH", "greeting", "x"])
            let spans = try await agent.waitForSpans(count: 6, timeout: .seconds(15)) {
                $0.string("db.system.name") == "redis" && ["SET", "GET", "LPUSH"].contains($0.string("db.operation.name") ?? "")
            }
            try agent.stop()
            #expect(spans.count == 6)
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.count == 3 && clients.count == 3)
            #expect(servers.allSatisfy { $0.pid == server.pid })
            #expect(spans.allSatisfy { !($0.string("db.query.text") ?? "").contains("secret-value") }, "values never leave")
            let failed = servers.first { $0.string("db.operation.name") == "LPUSH" }
            #expect(failed?.status == "STATUS_CODE_ERROR" && failed?.string("db.response.status_code") == "WRONGTYPE")
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent?.traceID == span.traceID && parent?.string("db.operation.name") == span.string("db.operation.name"))
            }
        }

        /// psql (simple query protocol), psycopg (extended protocol, a statement prepared once
        /// and executed five times) and pgbench against a PostgreSQL whose postmaster forks a
        /// backend per connection: one span per statement on each end, the backend's linked
        /// to its client's, errors with their SQLSTATE, no literal value anywhere, and nothing
        /// from the postmaster that only accepted.
        @Test func postgresqlStatementsGiveLinkedSpansOnBothEnds() async throws {
            let server = try PostgreSQLServer(port: testPort(18561))
            try server.psql("CREATE TABLE orders (id integer PRIMARY KEY, item text, qty integer); INSERT INTO orders VALUES (1, 'tea', 3)")
            _ = try runChecked("pgbench", ["-h", "127.0.0.1", "-p", "\(testPort(18561))", "-U", "postgres", "-i", "-s", "1", "-q", "postgres"])
            let script = try server.directory.write("simple.sql", """
                SELECT item FROM orders WHERE id = 1;
                INSERT INTO orders VALUES (2, 'secret-item', 5);
                SELECT * FROM missing_table;
                """)
            let driver = try server.directory.write("extended.py", """
                import sys, psycopg
                with psycopg.connect(host="127.0.0.1", port=int(sys.argv[1]), user="postgres", dbname="postgres",
                                     sslmode="disable", autocommit=True) as conn:
                    cur = conn.cursor()
                    for _ in range(5):
                        cur.execute("SELECT qty FROM orders WHERE id = %s", (1,), prepare=True)
                        cur.fetchall()
                    cur.execute("UPDATE orders SET qty = qty + %s WHERE item = %s", (1, "secret-item"))
                    try:
                        cur.execute("INSERT INTO orders VALUES (%s, %s, %s)", (1, "secret-item", 1))
                    except psycopg.errors.UniqueViolation:
                        pass
                """)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18561))]\n")
            let psql = try runChecked("psql", ["-h", "127.0.0.1", "-p", "\(testPort(18561))", "-U", "postgres", "-q", "-f", script]).pid
            let psycopg = try runChecked(driversPython, [driver, "\(testPort(18561))"]).pid
            let pgbench = try runChecked("pgbench", ["-h", "127.0.0.1", "-p", "\(testPort(18561))", "-U", "postgres", "-S", "-n", "-t", "10", "-M", "prepared", "postgres"]).pid
            let expected = 2 * (3 + 7 + 12)
            _ = try await agent.waitForSpans(count: expected, timeout: .seconds(20)) { $0.string("db.system.name") == "postgresql" }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans
            let spans = all.database("postgresql")
            #expect(spans.count == expected, "\(spans.map { "\($0.kind) \($0.name)" })")
            #expect(all.allSatisfy { $0.pid != server.pid }, "the postmaster only accepts: no span of its own")
            #expect(all.filter(\.isTCP).isEmpty, "every connection decoded: \(all.filter(\.isTCP).map { "\($0.pid) \($0.executable)" })")
            #expect(!spans.contains { ($0.queryText ?? "").contains("secret") }, "values never leave")
            #expect(spans.allSatisfy { $0.string("db.namespace") == "postgres" })
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.allSatisfy { $0.executable.hasSuffix("/postgres") && $0.pid != server.pid })
            expectLinked(servers, to: clients)

            let fromPsql = clients.filter { $0.pid == psql }
            #expect(fromPsql.map(\.name) == ["SELECT orders", "INSERT orders", "SELECT missing_table"])
            #expect(fromPsql.map(\.queryText) == [
                "SELECT item FROM orders WHERE id = ?;", "INSERT INTO orders VALUES (?, ?, ?);", "SELECT * FROM missing_table;",
            ])
            #expect(fromPsql.map(\.status) == ["STATUS_CODE_UNSET", "STATUS_CODE_UNSET", "STATUS_CODE_ERROR"])
            #expect(fromPsql.last?.dbStatus == "42P01")
            #expect(fromPsql.allSatisfy { $0.executable.hasSuffix("/psql") })

            let fromPsycopg = clients.filter { $0.pid == psycopg }
            #expect(fromPsycopg.map(\.queryText) == Array(repeating: "SELECT qty FROM orders WHERE id = $1", count: 5) + [
                "UPDATE orders SET qty = qty + $1 WHERE item = $2", "INSERT INTO orders VALUES ($1, $2, $3)",
            ])
            #expect(fromPsycopg.last?.dbStatus == "23505" && fromPsycopg.last?.status == "STATUS_CODE_ERROR")
            #expect(fromPsycopg.prefix(5).allSatisfy { $0.int("db.response.returned_rows") == 1 })

            let fromPgbench = clients.filter { $0.pid == pgbench }
            #expect(fromPgbench.filter { $0.name == "SELECT pgbench_accounts" }.count == 10)
            #expect(fromPgbench.count == 12, "two setup queries, then one per transaction: \(fromPgbench.map(\.name))")

            // Each backend served exactly one client connection, linked whole.
            #expect(Set(servers.map(\.pid)).count == 4, "psql, psycopg and pgbench's two connections")
            #expect(metrics["decode_errors"] == 0)
        }

        /// PyMySQL (COM_QUERY with values bound on the client, COM_INIT_DB, COM_PING, and
        /// COM_STMT_PREPARE/EXECUTE spoken over its packet layer, which PyMySQL itself does
        /// not use) and the mariadb client against MariaDB: one span per command on each end,
        /// linked, executions with their statement's text, errors with their code.
        @Test func mariadbCommandsGiveLinkedSpansOnBothEnds() async throws {
            let server = try MariaDBServer(port: testPort(18562))
            try server.mariadb("CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT); INSERT INTO orders VALUES (1, 'tea', 3)", database: "shop")
            let driver = try server.directory.write("commands.py", """
                import struct, sys, pymysql
                from pymysql.constants import COMMAND
                conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root", database="shop", autocommit=True)
                with conn.cursor() as cur:
                    cur.execute("SELECT item FROM orders WHERE id = %s", (1,))
                    cur.fetchall()
                    cur.execute("INSERT INTO orders VALUES (%s, %s, %s)", (2, "secret-item", 5))
                    try:
                        cur.execute("SELECT * FROM missing_table")
                    except pymysql.err.ProgrammingError:
                        pass
                conn.select_db("mysql")
                conn.ping(reconnect=False)
                conn.select_db("shop")
                conn._execute_command(COMMAND.COM_STMT_PREPARE, "SELECT qty FROM orders WHERE id = ?")
                statement, columns, params = struct.unpack("<IHH", conn._read_packet().get_all_data()[1:9])
                for _ in range(params + columns + (1 if params else 0) + (1 if columns else 0)):
                    conn._read_packet()
                for value in (1, 2, 3):
                    conn._execute_command(COMMAND.COM_STMT_EXECUTE, struct.pack("<IBI", statement, 0, 1) + b"\\x00\\x01" + struct.pack("<Hq", 8, value))
                    if not conn._read_packet().is_ok_packet():
                        for _ in range(columns + 1):
                            conn._read_packet()
                        while not conn._read_packet().is_eof_packet():
                            pass
                conn._execute_command(COMMAND.COM_STMT_CLOSE, struct.pack("<I", statement))
                conn.close()
                """)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18562))]\n")
            let pymysql = try runChecked(driversPython, [driver, "\(testPort(18562))"]).pid
            let cli = try TestProcess("mariadb", ["-h", "127.0.0.1", "-P", "\(testPort(18562))", "-u", "root", "shop", "-e", "SELECT qty FROM orders WHERE item = 'secret-item'; SELECT nope FROM orders"])
            cli.wait()
            let expected = 2 * (10 + 2)
            _ = try await agent.waitForSpans(count: expected, timeout: .seconds(20)) { $0.string("db.system.name") == "mariadb" }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.database("mariadb")
            #expect(spans.count == expected, "\(spans.map { "\($0.kind) \($0.name)" })")
            #expect(!spans.contains { ($0.queryText ?? "").contains("secret") }, "values never leave")
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(servers.allSatisfy { $0.pid == server.pid })
            expectLinked(servers, to: clients)

            let fromPyMySQL = clients.filter { $0.pid == pymysql }
            #expect(fromPyMySQL.map(\.name) == [
                "SET", "SELECT orders", "INSERT orders", "SELECT missing_table", "USE", "PING", "USE",
                "SELECT orders", "SELECT orders", "SELECT orders",
            ], "PyMySQL's SET NAMES, three queries, COM_INIT_DB, COM_PING, COM_INIT_DB, three executions")
            let executions = fromPyMySQL.filter { $0.queryText == "SELECT qty FROM orders WHERE id = ?" }
            #expect(executions.count == 3, "one span per COM_STMT_EXECUTE, with the prepared text")
            #expect(executions.map { $0.int("db.response.returned_rows") } == [1, 1, 0])
            let missing = fromPyMySQL.first { $0.name == "SELECT missing_table" }
            #expect(missing?.dbStatus == "1146" && missing?.status == "STATUS_CODE_ERROR")
            #expect(fromPyMySQL.filter { $0.name == "PING" }.first?.string("db.namespace") == "mysql", "COM_INIT_DB moves the namespace")

            let fromCLI = clients.filter { $0.pid == cli.pid }
            #expect(fromCLI.map(\.queryText) == ["SELECT qty FROM orders WHERE item = ?", "SELECT nope FROM orders"])
            #expect(fromCLI.last?.dbStatus == "1054")
            #expect(metrics["decode_errors"] == 0)
        }

        /// redis-py with a pipeline (six commands in one write, six replies) and a MULTI/EXEC
        /// transaction: one span per command on each end, the pipelined ones starting together,
        /// every server span the child of its client's.
        @Test func redisPyPipelineAndTransactionGiveOneSpanPerCommand() async throws {
            let directory = try TemporaryDirectory()
            let server = try TestProcess("redis-server", ["--port", "\(testPort(18563))", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path])
            defer { server.stop() }
            try waitForPort(testPort(18563), of: server)
            let driver = try directory.write("pipeline.py", """
                import sys, redis
                r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
                r.set("counter", 0)
                pipe = r.pipeline(transaction=False)
                for _ in range(5):
                    pipe.incr("counter")
                pipe.get("counter")
                pipe.execute()
                tx = r.pipeline(transaction=True)
                tx.set("balance", "secret-value")
                tx.append("balance", "more")
                tx.execute()
                try:
                    r.lpush("counter", "x")
                except redis.ResponseError:
                    pass
                r.close()
                """)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18563))]\n")
            let client = try runChecked(driversPython, [driver, "\(testPort(18563))"]).pid
            let commands = ["SET"] + Array(repeating: "INCRBY", count: 5) + ["GET", "MULTI", "SET", "APPEND", "EXEC", "LPUSH"]
            _ = try await agent.waitForSpans(count: 2 * commands.count, timeout: .seconds(15)) {
                $0.string("db.system.name") == "redis" && !$0.name.hasPrefix("CLIENT") && $0.name != "HELLO"
            }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans.database("redis").filter { !$0.name.hasPrefix("CLIENT") && $0.name != "HELLO" }
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(clients.map(\.name) == commands)
            #expect(servers.map(\.name) == commands)
            #expect(clients.allSatisfy { $0.pid == client } && servers.allSatisfy { $0.pid == server.pid })
            #expect(!spans.contains { ($0.queryText ?? "").contains("secret") }, "values never leave")
            #expect(spans.allSatisfy { $0.string("db.namespace") == "0" })
            let pipelined = clients[1...6]
            #expect(Set(pipelined.map(\.start)).count == 1, "one write carried the whole pipeline")
            #expect(clients.last?.dbStatus == "WRONGTYPE" && servers.last?.status == "STATUS_CODE_ERROR")
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent?.traceID == span.traceID && parent?.name == span.name)
            }
        }

        /// A python web server that queries PostgreSQL and Redis for each request, on
        /// connections it opened before tracing started: one trace per request, the HTTP
        /// server span the parent of both database client spans, each database's server span
        /// the child of its client's.
        @Test func webRequestsAndTheirDatabaseCallsAreOneTracePerRequest() async throws {
            let postgres = try PostgreSQLServer(port: testPort(18564))
            try postgres.psql("CREATE TABLE orders (id integer PRIMARY KEY, item text, qty integer); INSERT INTO orders VALUES (1, 'tea', 3)")
            let directory = try TemporaryDirectory()
            let redis = try TestProcess("redis-server", ["--port", "\(testPort(18565))", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path])
            defer { redis.stop() }
            try waitForPort(testPort(18565), of: redis)
            let app = try directory.write("web.py", """
                import sys, threading, psycopg, redis
                from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
                port, pg_port, redis_port = (int(a) for a in sys.argv[1:4])
                database = psycopg.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="postgres", sslmode="disable", autocommit=True)
                cache = redis.Redis(host="127.0.0.1", port=redis_port)
                lock = threading.Lock()

                class Handler(BaseHTTPRequestHandler):
                    protocol_version = "HTTP/1.1"

                    def do_GET(self):
                        item = self.path.rsplit("/", 1)[-1]
                        with lock:
                            row = database.execute("SELECT qty FROM orders WHERE item = %s", (item,)).fetchone()
                        cached = cache.get("order:" + item)
                        body = f"{row[0] if row else 0} {cached is not None}".encode()
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)

                    def log_message(self, *args):
                        pass

                ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
                """)
            let web = try TestProcess(driversPython, [app, "\(testPort(18566))", "\(testPort(18564))", "\(testPort(18565))"])
            defer { web.stop() }
            try waitForPort(testPort(18566), of: web)
            // The first request opens the database connections, before tracing starts.
            try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18566))/orders/warm"])
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18564)), \(testPort(18565)), \(testPort(18566))]\n")
            let items = ["tea", "coffee", "tea"]
            for item in items {
                try run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(testPort(18566))/orders/\(item)"])
            }
            _ = try await agent.waitForSpans(count: 6 * items.count, timeout: .seconds(15))
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let spans = try agent.spans
            #expect(spans.count == 6 * items.count, "\(spans.map { "\($0.kind) \($0.name)" })")
            let requests = spans.filter { $0.isServer && $0.isHTTP }
            #expect(requests.map(\.path) == items.map { "/orders/\($0)" })
            for request in requests {
                let trace = spans.filter { $0.traceID == request.traceID }
                #expect(trace.count == 6, "curl, the web server, and a client and server span per database")
                let children = trace.filter { $0.parentSpanID == request.spanID }
                #expect(Set(children.compactMap { $0.string("db.system.name") }) == ["postgresql", "redis"])
                #expect(children.allSatisfy { $0.isClient && $0.pid == web.pid })
                for call in children {
                    let served = trace.filter { $0.parentSpanID == call.spanID }
                    #expect(served.count == 1 && served.first?.isServer == true && served.first?.name == call.name)
                }
                let caller = trace.first { $0.spanID == request.parentSpanID }
                #expect(caller?.isClient == true && caller?.executable.hasSuffix("curl") == true)
            }
            let redisSpans = spans.database("redis")
            #expect(redisSpans.count == 2 * items.count)
            #expect(redisSpans.allSatisfy { $0.string("db.namespace") == nil }, "joined midway: a SELECT may have gone unseen")
            #expect(spans.database("postgresql").filter(\.isServer).allSatisfy { $0.executable.hasSuffix("/postgres") })
        }

        /// redis-benchmark pipelining three commands per write on two connections: every
        /// command one span on each end, server spans children of their client's.
        @Test func redisBenchmarkPipelinesGiveOneSpanPerCommand() async throws {
            let directory = try TemporaryDirectory()
            let server = try TestProcess("redis-server", ["--port", "\(testPort(18567))", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path])
            defer { server.stop() }
            try waitForPort(testPort(18567), of: server)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18567))]\n")
            let benchmark = try runChecked("redis-benchmark", ["-p", "\(testPort(18567))", "-n", "12", "-c", "2", "-P", "3", "-t", "set,get", "-q"]).pid
            // Two CONFIG GET to read the server's settings, then 12 SET and 12 GET.
            _ = try await agent.waitForSpans(count: 2 * 26, timeout: .seconds(15)) { $0.string("db.system.name") == "redis" }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans.database("redis")
            #expect(spans.count == 2 * 26)
            let servers = spans.filter(\.isServer), clients = spans.filter(\.isClient)
            #expect(clients.allSatisfy { $0.pid == benchmark } && servers.allSatisfy { $0.pid == server.pid })
            for operation in ["SET", "GET"] {
                #expect(clients.filter { $0.name == operation }.count == 12 && servers.filter { $0.name == operation }.count == 12)
            }
            #expect(clients.filter { $0.name == "CONFIG GET" }.count == 2)
            for span in servers {
                let parent = clients.first { $0.spanID == span.parentSpanID }
                #expect(parent?.traceID == span.traceID && parent?.name == span.name, "\(span.name) \(span.start) parent \(span.parentSpanID ?? "none") \(parent?.name ?? "not a client span")")
            }
            #expect(metrics["decode_errors"] == 0)
        }

        /// psql asking for TLS and a server that accepts: the session is encrypted from the
        /// server's 'S' on, which both ends count as opaque traffic, not as decode errors.
        @Test func acceptedSSLRequestIsOpaqueTrafficNotADecodeError() async throws {
            let server = try PostgreSQLServer(port: testPort(18568), tls: true)
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18568))]\n")
            try runChecked("psql", ["host=127.0.0.1 port=\(testPort(18568)) user=postgres dbname=postgres sslmode=require", "-qc", "SELECT 1"])
            _ = try await agent.waitForSpans(count: 2, timeout: .seconds(10)) { $0.isTCP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let spans = try agent.spans
            #expect(spans.database("postgresql").isEmpty, "nothing readable after the handshake")
            #expect(spans.filter(\.isTCP).count == 2, "one connection span on each end")
            #expect(spans.allSatisfy { $0.pid != server.pid })
            #expect(metrics["opaque_traffic"] == 2 && metrics["decode_errors"] == 0, "\(metrics)")
        }
    }
}
