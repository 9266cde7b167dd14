import Foundation
import PeriscopeTestSupport
import Testing

/// Servers and clients of many stacks as they really use connections: chunked bodies
/// larger than the capture, keep-alive sessions, upgrades, exits without close, long idle
/// connections. Each asserts exact counts, sizes, status codes, executables and links on
/// both ends, and that no span stands for no exchange.
extension KernelTests {
    @Suite struct AgentLifecycleTests {
        /// Debian's interpreter, with the packages hack/setup.sh installs (requests, websockets).
        static let python = "/usr/bin/python3"

        /// A threaded HTTP/1.1 server that reads chunked request bodies by their framing and
        /// streams a chunked response of 1000 then 2000 bytes, 50 ms apart.
        static let chunkedServer = #"""
            import http.server, socketserver, sys, time
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def body(self):
                    if self.headers.get("Transfer-Encoding", "") != "chunked":
                        return self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                def stream(self):
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for size in (1000, 2000):
                        self.wfile.write(b"%x\r\n%s\r\n" % (size, b"s" * size))
                        time.sleep(0.2)
                    self.wfile.write(b"0\r\n\r\n")
                def do_POST(self):
                    assert len(self.body()) == 4096
                    self.stream()
                def do_GET(self):
                    self.stream()
                def log_message(self, *args):
                    pass
            class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
                daemon_threads = True
            Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
            """#

        /// Node's http client sends a 4096-byte chunked body; python's requests reads a
        /// streamed chunked response: 128 bytes captured per read or write, sizes exact on
        /// both ends.
        @Test func chunkedBodiesLargerThanTheCaptureAreExactOnBothEnds() async throws {
            let server = try TestProcess(Self.python, ["-c", Self.chunkedServer, "\(testPort(18641))"])
            defer { server.stop() }
            try waitForPort(testPort(18641))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18641))]\ncapture: {payloadBytes: 256}\n")
            let node = try TestProcess("node", ["-e", """
                const http = require('http');
                const request = http.request({host: '127.0.0.1', port: \(testPort(18641)), method: 'POST', path: '/upload'}, response => {
                    let size = 0;
                    response.on('data', chunk => size += chunk.length);
                    response.on('end', () => { console.log(size); process.exit(0); });
                });
                request.write(Buffer.alloc(4096, 97));
                request.end();
                """])
            #expect(node.wait() == 0)
            #expect(node.log.contains("3000"))
            let requests = try TestProcess(Self.python, ["-c", """
                import requests
                print(len(requests.get("http://127.0.0.1:\(testPort(18641))/stream").content))
                """])
            #expect(requests.wait() == 0)
            #expect(requests.log.contains("3000"))
            let spans = try await agent.waitForSpans(count: 4) { $0.isHTTP }
            try agent.stop()
            #expect(spans.count == 4)
            let posts = spans.filter { $0.method == "POST" }, gets = spans.filter { $0.method == "GET" }
            #expect(posts.count == 2 && gets.count == 2)
            for span in posts {
                #expect(span.requestBodySize == 4096, "\(span.kind)")
                #expect(span.responseBodySize == 3000, "\(span.kind)")
            }
            for span in gets {
                #expect(span.requestBodySize == 0, "\(span.kind)")
                #expect(span.responseBodySize == 3000, "\(span.kind)")
            }
            #expect(spans.allSatisfy { $0.statusCode == 200 && $0.status == "STATUS_CODE_UNSET" })
            Self.expectLinked(spans.filter { $0.isClient }, spans.filter { $0.isServer })
            #expect(posts.first { $0.isClient }?.executable.hasSuffix("node") == true)
            #expect(gets.first { $0.isClient }?.executable.contains("python") == true)
            #expect(spans.filter { $0.isServer }.allSatisfy { $0.pid == server.pid })
            Self.expectNoEmptySpans(spans)
        }

        /// A server writing a whole chunked response of several chunks in ONE write larger than
        /// the capture, read by python's requests, Node's http and a raw client; the raw client
        /// sends several chunks of its request in one write too. The kernel walks the chunk
        /// headers past the 256 bytes captured: sizes exact on both ends, trailers included.
        @Test func severalChunksInOneReadOrWriteAreCountedExactly() async throws {
            let server = try TestProcess(Self.python, ["-c", #"""
                import socket, socketserver, sys
                CHUNKS = (700, 1, 1500, 3000, 33)
                def read_request(conn):
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    head, body = data.split(b"\r\n\r\n", 1)
                    if b"chunked" in head.lower():
                        while not body.endswith(b"0\r\n\r\n"):
                            body += conn.recv(65536)
                class Handler(socketserver.BaseRequestHandler):
                    def handle(self):
                        while True:
                            try:
                                read_request(self.request)
                            except Exception:
                                return
                            body = b"".join(b"%x\r\n%s\r\n" % (n, b"r" * n) for n in CHUNKS)
                            self.request.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                                                 + body + b"0\r\nX-Sum: 5234\r\n\r\n")
                class Server(socketserver.ThreadingTCPServer):
                    daemon_threads = True
                    allow_reuse_address = True
                Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
                """#, "\(testPort(18648))"])
            defer { server.stop() }
            try waitForPort(testPort(18648))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18648))]\ncapture: {payloadBytes: 256}\n")
            let requests = try TestProcess(Self.python, ["-c", """
                import requests
                print(len(requests.get("http://127.0.0.1:\(testPort(18648))/python").content))
                """])
            #expect(requests.wait() == 0 && requests.log.contains("5234"), "\(requests.log)")
            let node = try TestProcess("node", ["-e", """
                const http = require('http');
                http.get({host: '127.0.0.1', port: \(testPort(18648)), path: '/node'}, response => {
                    let size = 0;
                    response.on('data', chunk => size += chunk.length);
                    response.on('end', () => { console.log(size); process.exit(0); });
                });
                """])
            #expect(node.wait() == 0 && node.log.contains("5234"), "\(node.log)")
            let raw = try TestProcess(Self.python, ["-c", #"""
                import socket
                conn = socket.create_connection(("127.0.0.1", \#(testPort(18648))))
                body = b"".join(b"%X\r\n%s\r\n" % (n, b"q" * n) for n in (500, 2000, 1, 1200))
                conn.sendall(b"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n")
                data = b""
                while not data.endswith(b"X-Sum: 5234\r\n\r\n"):
                    data += conn.recv(65536)
                conn.close()
                print("done")
                """#])
            #expect(raw.wait() == 0 && raw.log.contains("done"), "\(raw.log)")
            let spans = try await agent.waitForSpans(count: 6) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans
            #expect(spans.count == 6, "\(all.map { "\($0.kind) \($0.name) \($0.path ?? "")" })")
            #expect(spans.allSatisfy { $0.statusCode == 200 && $0.status == "STATUS_CODE_UNSET" })
            #expect(spans.allSatisfy { $0.responseBodySize == 5234 }, "\(spans.map { "\($0.kind) \($0.path ?? "") \($0.responseBodySize ?? -1)" })")
            for span in spans {
                #expect(span.requestBodySize == (span.path == "/raw" ? 3701 : 0), "\(span.kind) \(span.path ?? "") \(span.requestBodySize ?? -1)")
            }
            #expect(Set(spans.compactMap(\.path)) == ["/python", "/node", "/raw"])
            Self.expectLinked(spans.filter(\.isClient), spans.filter(\.isServer))
            Self.expectNoEmptySpans(all)
            #expect(metrics["decode_errors"] == 0)
        }

        /// Chunk framing spread over a writev's buffers and chunks split across reads, 256 bytes
        /// captured: Node's http client sends corked chunked bodies (one writev of [head and
        /// size, CRLF, data, CRLF, …], 17 and 49 buffers); a python server reads them 700 bytes
        /// at a time and streams its chunked answer with its first write short (head and the
        /// first 100 bytes of an 8000-byte chunk) and its second starting in the middle of that
        /// chunk; python's requests reads it. Sizes exact on both ends.
        @Test func corkedWritesAndReadsThatSplitChunksAreCountedExactly() async throws {
            let server = try TestProcess(Self.python, ["-c", #"""
                import socket, socketserver, sys, time
                def read_body(conn, data):
                    body = b""
                    while True:
                        while b"\r\n" not in data:
                            data += conn.recv(700)
                        line, data = data.split(b"\r\n", 1)
                        size = int(line.split(b";")[0], 16)
                        if size == 0:
                            while b"\r\n" not in data:
                                data += conn.recv(700)
                            return body
                        while len(data) < size + 2:
                            data += conn.recv(700)
                        body += data[:size]
                        data = data[size + 2:]
                class Handler(socketserver.BaseRequestHandler):
                    def handle(self):
                        while True:
                            data = b""
                            while b"\r\n\r\n" not in data:
                                chunk = self.request.recv(700)
                                if not chunk:
                                    return
                                data += chunk
                            head, data = data.split(b"\r\n\r\n", 1)
                            size = len(read_body(self.request, data)) if b"chunked" in head.lower() else 0
                            first = b"r" * 8000
                            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Read: %d\r\nTransfer-Encoding: chunked\r\n\r\n1f40\r\n" % size + first[:100])
                            time.sleep(0.1)
                            self.request.sendall(first[100:] + b"\r\n1000\r\n" + b"s" * 4096 + b"\r\n0\r\n\r\n")
                class Server(socketserver.ThreadingTCPServer):
                    daemon_threads = True
                    allow_reuse_address = True
                Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
                """#, "\(testPort(18655))"])
            defer { server.stop() }
            try waitForPort(testPort(18655))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18655))]\ncapture: {payloadBytes: 256}\n")
            let node = try TestProcess("node", ["-e", """
                const http = require('http');
                function post(path, sizes) {
                    return new Promise(resolve => {
                        const request = http.request({host: '127.0.0.1', port: \(testPort(18655)), method: 'POST', path}, response => {
                            let size = 0;
                            response.on('data', chunk => size += chunk.length);
                            response.on('end', () => resolve(response.headers['x-read'] + ' ' + size));
                        });
                        sizes.forEach((size, index) => request.write(Buffer.alloc(size, 97 + index % 26)));
                        request.end();
                    });
                }
                (async () => {
                    console.log(await post('/four', [3000, 5000, 1, 700]));
                    console.log(await post('/twelve', Array(12).fill(500)));
                    process.exit(0);
                })();
                """])
            #expect(node.wait() == 0)
            #expect(node.log.contains("8701 12096") && node.log.contains("6000 12096"), "\(node.log)")
            let requests = try TestProcess(Self.python, ["-c", """
                import requests
                print(len(requests.get("http://127.0.0.1:\(testPort(18655))/stream").content))
                """])
            #expect(requests.wait() == 0 && requests.log.contains("12096"), "\(requests.log)")
            let spans = try await agent.waitForSpans(count: 6) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            let all = try agent.spans
            #expect(spans.count == 6, "\(all.map { "\($0.kind) \($0.name) \($0.path ?? "")" })")
            let expected = ["/four": 8701, "/twelve": 6000, "/stream": 0]
            for span in spans {
                let path = span.path ?? ""
                #expect(span.requestBodySize == expected[path], "\(span.kind) \(path) request \(span.requestBodySize ?? -1)")
                #expect(span.responseBodySize == 12096, "\(span.kind) \(path) response \(span.responseBodySize ?? -1)")
            }
            #expect(Set(spans.compactMap(\.path)) == ["/four", "/twelve", "/stream"])
            #expect(spans.allSatisfy { $0.statusCode == 200 && $0.status == "STATUS_CODE_UNSET" })
            Self.expectLinked(spans.filter(\.isClient), spans.filter(\.isServer))
            Self.expectNoEmptySpans(all)
            #expect(metrics["decode_errors"] == 0)
        }

        /// nginx serving a static file with sendfile on: the head goes in a write, the body by
        /// sendfile(2), which moves bytes the tracer counts without copying any. curl and
        /// python's requests fetch a 300000-byte file, 256 bytes captured: exact response body
        /// size on both ends.
        @Test func sendfileBodiesAreCountedExactly() async throws {
            let directory = try TemporaryDirectory()
            let site = try TemporaryDirectory()
            _ = try site.write("big.bin", String(repeating: "0123456789", count: 30000))
            let nginx = try startNginx(in: directory, port: testPort(18656), httpBlock: """
                sendfile on;
                tcp_nopush on;
                server {
                    listen 127.0.0.1:\(testPort(18656));
                    root \(site.path);
                }
                """)
            defer { nginx.stop() }
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18656))]\ncapture: {payloadBytes: 256}\n")
            let curl = try TestProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{size_download}", "http://127.0.0.1:\(testPort(18656))/big.bin"])
            #expect(curl.wait() == 0 && curl.log.contains("300000"), "\(curl.log)")
            let requests = try TestProcess(Self.python, ["-c", """
                import requests
                print(len(requests.get("http://127.0.0.1:\(testPort(18656))/big.bin").content))
                """])
            #expect(requests.wait() == 0 && requests.log.contains("300000"), "\(requests.log)")
            let spans = try await agent.waitForSpans(count: 4) { $0.isHTTP }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = try agent.stop()
            #expect(spans.count == 4)
            for span in spans {
                #expect(span.responseBodySize == 300000, "\(span.kind) \(span.executable) \(span.responseBodySize ?? -1)")
                #expect(span.requestBodySize == 0 && span.statusCode == 200)
            }
            #expect(spans.filter(\.isServer).allSatisfy { $0.executable.hasSuffix("nginx") })
            Self.expectLinked(spans.filter(\.isClient), spans.filter(\.isServer))
            #expect(metrics["decode_errors"] == 0)
        }

        /// Go's net/http on both ends: a body of unknown length goes chunked, the handler
        /// flushes its answer in two chunks.
        @Test func goNetHTTPChunkedBothWays() async throws {
            let directory = try TemporaryDirectory()
            let source = try directory.write("main.go", Self.goProgram)
            let binary = directory.path + "/app"
            let build = try TestProcess(
                "go", ["build", "-o", binary, source],
                environment: ["GOCACHE": directory.path + "/cache", "GO111MODULE": "off", "HOME": directory.path]
            )
            try #require(build.wait() == 0, "go build: \(build.log)")
            let server = try TestProcess(binary, ["serve", "127.0.0.1:\(testPort(18642))"])
            defer { server.stop() }
            try waitForPort(testPort(18642))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18642))]\ncapture: {payloadBytes: 256}\n")
            let client = try TestProcess(binary, ["call", "127.0.0.1:\(testPort(18642))"])
            #expect(client.wait() == 0)
            #expect(client.log.contains("200 3000"))
            let spans = try await agent.waitForSpans(count: 2) { $0.isHTTP }
            try agent.stop()
            #expect(spans.count == 2)
            for span in spans {
                #expect(span.method == "POST")
                #expect(span.requestBodySize == 5000, "\(span.kind)")
                #expect(span.responseBodySize == 3000, "\(span.kind)")
                #expect(span.statusCode == 200)
            }
            Self.expectLinked(spans.filter { $0.isClient }, spans.filter { $0.isServer })
            #expect(spans.first { $0.isServer }?.pid == server.pid)
            #expect(spans.first { $0.isClient }?.pid == client.pid)
            Self.expectNoEmptySpans(spans)
        }

        static let goProgram = """
            package main

            import (
                "fmt"
                "io"
                "net/http"
                "os"
                "strings"
                "time"
            )

            func main() {
                if os.Args[1] == "serve" {
                    http.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
                        io.Copy(io.Discard, r.Body)
                        for _, size := range []int{1000, 2000} {
                            w.Write([]byte(strings.Repeat("g", size)))
                            w.(http.Flusher).Flush()
                            time.Sleep(200 * time.Millisecond)
                        }
                    })
                    http.ListenAndServe(os.Args[2], nil)
                    return
                }
                body := io.MultiReader(strings.NewReader(strings.Repeat("a", 2500)), pause{}, strings.NewReader(strings.Repeat("b", 2500)))
                response, err := http.Post("http://"+os.Args[2]+"/upload", "text/plain", body)
                if err != nil {
                    fmt.Println(err)
                    os.Exit(1)
                }
                n, _ := io.Copy(io.Discard, response.Body)
                fmt.Println(response.StatusCode, n)
            }

            // Streams the body: the second part follows 50 ms after the first.
            type pause struct{}

            func (pause) Read([]byte) (int, error) {
                time.Sleep(200 * time.Millisecond)
                return 0, io.EOF
            }
            """

        /// Java's HttpServer streams its answer (length 0: chunked); java.net.http's client
        /// sends a body of unknown length (chunked).
        @Test func javaHttpServerAndHttpClientChunkedBothWays() async throws {
            let directory = try TemporaryDirectory()
            let source = try directory.write("Exchange.java", """
                import com.sun.net.httpserver.HttpServer;
                import java.io.*;
                import java.net.*;
                import java.net.http.*;

                public class Exchange {
                    public static void main(String[] args) throws Exception {
                        if (args[0].equals("serve")) {
                            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", \(testPort(18644))), 16);
                            server.createContext("/upload", exchange -> {
                                exchange.getRequestBody().readAllBytes();
                                exchange.sendResponseHeaders(200, 0);
                                try (OutputStream out = exchange.getResponseBody()) {
                                    out.write("j".repeat(1000).getBytes());
                                    out.flush();
                                    try { Thread.sleep(200); } catch (InterruptedException e) {}
                                    out.write("j".repeat(2000).getBytes());
                                }
                            });
                            server.start();
                            return;
                        }
                        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:\(testPort(18644))/upload"))
                            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream("c".repeat(4096).getBytes())))
                            .build();
                        HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        System.out.println(response.statusCode() + " " + response.body().length);
                    }
                }
                """)
            let server = try TestProcess("java", [source, "serve"])
            defer { server.stop() }
            try waitForPort(testPort(18644), timeout: .seconds(30))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18644))]\ncapture: {payloadBytes: 256}\n")
            let client = try TestProcess("java", [source, "call"])
            #expect(client.wait() == 0)
            #expect(client.log.contains("200 3000"))
            let spans = try await agent.waitForSpans(count: 2) { $0.isHTTP }
            try agent.stop()
            #expect(spans.count == 2)
            for span in spans {
                #expect(span.method == "POST")
                #expect(span.requestBodySize == 4096, "\(span.kind)")
                #expect(span.responseBodySize == 3000, "\(span.kind)")
                #expect(span.statusCode == 200)
                #expect(span.executable.contains("java"))
            }
            Self.expectLinked(spans.filter { $0.isClient }, spans.filter { $0.isServer })
            Self.expectNoEmptySpans(spans)
        }

        /// Ruby's Net::HTTP (which calls connect() again on its connected socket) against
        /// WEBrick: three requests on one keep-alive connection.
        @Test func rubyNetHTTPAgainstWEBrick() async throws {
            let server = try TestProcess("ruby", ["-e", """
                require 'webrick'
                server = WEBrick::HTTPServer.new(BindAddress: '127.0.0.1', Port: \(testPort(18643)), Logger: WEBrick::Log.new(File::NULL), AccessLog: [])
                server.mount_proc('/items') { |request, response| response.status = request.request_method == 'POST' ? 201 : 200; response.body = 'r' * 1500 }
                server.start
                """])
            defer { server.stop() }
            try waitForPort(testPort(18643), timeout: .seconds(20))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18643))]\n")
            let client = try TestProcess("ruby", ["-e", """
                require 'net/http'
                Net::HTTP.start('127.0.0.1', \(testPort(18643))) do |http|
                  puts http.get('/items/1').code
                  puts http.post('/items', 'p' * 700).code
                  puts http.get('/items/2').code
                end
                """])
            #expect(client.wait() == 0)
            #expect(client.log.split(separator: "\n") == ["200", "201", "200"])
            let spans = try await agent.waitForSpans(count: 6) { $0.isHTTP }
            try agent.stop()
            #expect(spans.count == 6)
            #expect(spans.filter { $0.isServer }.map(\.statusCode) == [200, 201, 200])
            #expect(spans.filter { $0.isClient }.map(\.statusCode) == [200, 201, 200])
            #expect(spans.allSatisfy { $0.responseBodySize == 1500 })
            #expect(spans.filter { $0.method == "POST" }.allSatisfy { $0.requestBodySize == 700 })
            #expect(spans.allSatisfy { $0.executable.contains("ruby") })
            #expect(!(try agent.spans.contains { $0.isTCP }), "the second connect() opened nothing new")
            Self.expectLinked(spans.filter { $0.isClient }, spans.filter { $0.isServer })
            Self.expectNoEmptySpans(try agent.spans)
        }

        /// A WebSocket session (python's websockets on both ends): the handshake is one HTTP
        /// span per end with status 101, the session after it one `websocket` span per end,
        /// a child of that end's handshake, with the bytes moved after the switch.
        @Test func webSocketSessionGoesOnAfterTheUpgrade() async throws {
            let server = try TestProcess(Self.python, ["-c", """
                import asyncio, websockets
                async def echo(socket, *path):
                    async for message in socket:
                        await socket.send(message)
                async def main():
                    async with websockets.serve(echo, "127.0.0.1", \(testPort(18645)), compression=None):
                        await asyncio.Future()
                asyncio.run(main())
                """])
            defer { server.stop() }
            try waitForPort(testPort(18645), timeout: .seconds(20))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18645))]\n")
            let client = try TestProcess(Self.python, ["-c", """
                import asyncio, websockets
                async def main():
                    async with websockets.connect("ws://127.0.0.1:\(testPort(18645))/chat", compression=None) as socket:
                        for text in ("one", "two" * 50, "three" * 300):
                            await socket.send(text)
                            assert await socket.recv() == text
                    print("done")
                asyncio.run(main())
                """])
            #expect(client.wait() == 0)
            #expect(client.log.contains("done"))
            let spans = try await agent.waitForSpans(count: 4) { $0.isHTTP || $0.name == "websocket" }
            try agent.stop()
            let handshakes = spans.filter(\.isHTTP), sessions = spans.filter { $0.name == "websocket" }
            #expect(handshakes.count == 2 && sessions.count == 2)
            #expect(handshakes.allSatisfy { $0.statusCode == 101 && $0.path == "/chat" })
            Self.expectLinked(handshakes.filter { $0.isClient }, handshakes.filter { $0.isServer })
            let serverSession = try #require(sessions.first { $0.isServer })
            let clientSession = try #require(sessions.first { $0.isClient })
            #expect(serverSession.parentSpanID == handshakes.first { $0.isServer }?.spanID)
            #expect(clientSession.parentSpanID == handshakes.first { $0.isClient }?.spanID)
            #expect(Set(spans.map(\.traceID)).count == 1)
            // 1653 bytes of messages each way (uncompressed), in frames (masked from the client),
            // and the close handshake.
            #expect((serverSession.bytesReceived ?? 0) > 1653 && serverSession.bytesReceived == clientSession.bytesSent)
            #expect((serverSession.bytesSent ?? 0) > 1653 && serverSession.bytesSent == clientSession.bytesReceived)
            #expect(serverSession.pid == server.pid && clientSession.pid == client.pid)
            Self.expectNoEmptySpans(try agent.spans)
        }

        /// A TCP echo server whose handler threads serve one connection each.
        static let echoServer = #"""
            import socket, sys, threading
            listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", int(sys.argv[1]))); listener.listen(16)
            def serve(connection):
                while True:
                    data = connection.recv(65536)
                    if not data: break
                    connection.sendall(data)
                connection.close()
            while True:
                connection, _ = listener.accept()
                threading.Thread(target=serve, args=(connection,), daemon=True).start()
            """#

        /// A client that exits without closing its connection (the kernel closes it): one
        /// connection span per end, linked, with exact byte counts.
        @Test func clientExitingWithoutCloseIsLinkedToItsServer() async throws {
            let server = try TestProcess(Self.python, ["-c", Self.echoServer, "\(testPort(18646))"])
            defer { server.stop() }
            try waitForPort(testPort(18646))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18646))]\nprotocols: [tcp]\n")
            let client = try TestProcess(Self.python, ["-c", """
                import os, socket
                connection = socket.create_connection(("127.0.0.1", \(testPort(18646))))
                connection.sendall(b"\\x16\\x03" + b"q" * 998)
                got = 0
                while got < 1000:
                    got += len(connection.recv(65536))
                os._exit(0)
                """])
            #expect(client.wait() == 0)
            let spans = try await agent.waitForSpans(count: 2) { $0.isTCP }
            try agent.stop()
            #expect(spans.count == 2)
            let serverSpan = try #require(spans.first { $0.isServer })
            let clientSpan = try #require(spans.first { $0.isClient })
            #expect(serverSpan.parentSpanID == clientSpan.spanID && serverSpan.traceID == clientSpan.traceID)
            #expect(clientSpan.bytesSent == 1000 && clientSpan.bytesReceived == 1000)
            #expect(serverSpan.bytesSent == 1000 && serverSpan.bytesReceived == 1000)
            #expect(clientSpan.pid == client.pid && serverSpan.pid == server.pid)
            Self.expectNoEmptySpans(try agent.spans)
        }

        /// A connection idle for longer than the agent's idle timeout between two exchanges
        /// of one session stays one connection on each end. The client holds the connection a
        /// while after the second exchange too: a connection idle since the first one, whose
        /// socket is gone when the agent looks, ends there, so the agent must have read the
        /// second exchange first (it has 2 s, however busy the machine).
        @Test func idleSessionLongerThanTheIdleTimeoutStaysOneConnection() async throws {
            let server = try TestProcess(Self.python, ["-c", Self.echoServer, "\(testPort(18647))"])
            defer { server.stop() }
            try waitForPort(testPort(18647))
            let agent = try await AgentHarness(policy: "ports: [\(testPort(18647))]\nprotocols: [tcp]\n", arguments: ["--idle-timeout", "1"])
            let client = try TestProcess(Self.python, ["-c", """
                import socket, time
                connection = socket.create_connection(("127.0.0.1", \(testPort(18647))))
                for pause in (0, 3.5):
                    time.sleep(pause)
                    connection.sendall(b"\\x00ping" * 100)
                    got = 0
                    while got < 500:
                        got += len(connection.recv(65536))
                time.sleep(2)
                connection.close()
                """])
            #expect(client.wait() == 0)
            let spans = try await agent.waitForSpans(count: 2, timeout: .seconds(30)) { $0.isTCP }
            try await Task.sleep(for: .milliseconds(300))
            try agent.stop()
            let all = try agent.spans.filter(\.isTCP)
            #expect(all.count == 2, "one connection span per end: \(all.map { "\($0.kind) \($0.bytesSent ?? -1)/\($0.bytesReceived ?? -1)" })")
            #expect(spans.allSatisfy { $0.bytesSent == 1000 && $0.bytesReceived == 1000 })
            #expect(all.allSatisfy { $0.duration >= 3_000_000_000 })
            Self.expectNoEmptySpans(all)
        }

        /// Each server span's parent is one of the client spans, each client span parents one.
        static func expectLinked(_ clients: [PrintedSpan], _ servers: [PrintedSpan]) {
            #expect(clients.count == servers.count)
            let parents = servers.compactMap(\.parentSpanID)
            #expect(Set(parents) == Set(clients.map(\.spanID)), "every server span is the child of its client span")
        }

        /// No span with zero bytes and zero duration: each stands for an exchange.
        static func expectNoEmptySpans(_ spans: [PrintedSpan]) {
            for span in spans where span.isTCP {
                #expect(!(span.duration == 0 && span.bytesSent == 0 && span.bytesReceived == 0), "\(span.name) \(span.kind)")
            }
        }
    }
}

extension KernelTests.AgentLifecycleTests {
    /// Connection spans (protocols: [tcp]) of both ends of real clients and servers:
    /// psql → PostgreSQL (a backend forked per connection), redis-cli → Redis, curl over
    /// HTTP/2 without TLS → nghttpd, curl → a TLS server. Every client's connection span is
    /// linked to its server's, clients exiting without close included.
    @Test func connectionSpansOfDatabaseHTTP2AndTLSClientsAreLinkedToTheirServers() async throws {
        let postgres = try PostgreSQLServer(port: testPort(18577))
        let redisDirectory = try TemporaryDirectory()
        let redis = try TestProcess("redis-server", ["--port", "\(testPort(18578))", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", redisDirectory.path])
        defer { redis.stop() }
        let site = try TemporaryDirectory()
        _ = try site.write("index.html", "hello over h2c\n")
        let nghttpd = try TestProcess("nghttpd", ["--no-tls", "-d", site.path, "\(testPort(18579))"])
        defer { nghttpd.stop() }
        let certificate = try TLSCertificate(in: site)
        let tls = try TestProcess(Self.python, ["-c", #"""
            import functools, http.server, ssl, sys
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
            server = http.server.HTTPServer(("127.0.0.1", \#(testPort(18580))), handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[2], sys.argv[3])
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
            """#, site.path, certificate.certificate, certificate.key])
        defer { tls.stop() }
        for port: UInt16 in [testPort(18578), testPort(18579), testPort(18580)] { try waitForPort(port) }
        let agent = try await AgentHarness(policy: "ports: [\(testPort(18577)), \(testPort(18578)), \(testPort(18579)), \(testPort(18580))]\nprotocols: [tcp]\n")
        for _ in 0..<2 {
            try runChecked("psql", ["-h", "127.0.0.1", "-p", "\(testPort(18577))", "-U", "postgres", "-qc", "SELECT 1"])
            try runChecked("redis-cli", ["-p", "\(testPort(18578))", "PING"])
            try runChecked("curl", ["-s", "-o", "/dev/null", "--http2-prior-knowledge", "http://127.0.0.1:\(testPort(18579))/index.html"])
            try runChecked("curl", ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(testPort(18580))/index.html"])
        }
        let ports = [testPort(18577), testPort(18578), testPort(18579), testPort(18580)].map(Int.init)
        _ = try await agent.waitForSpans(count: 16, timeout: .seconds(20)) { $0.isTCP && ($0.isClient || $0.isServer) }
        try await Task.sleep(for: .milliseconds(500))
        try agent.stop()
        let spans = try agent.spans.filter { $0.isTCP }
        for port in ports {
            let clients = spans.filter { $0.isClient && $0.peerPort == port }
            let servers = spans.filter { $0.isServer && $0.localPort == port }
            let linked = clients.filter { client in servers.contains { $0.parentSpanID == client.spanID && $0.traceID == client.traceID } }
            #expect(clients.count == 2 && servers.count == 2, "port \(port): \(clients.count) clients, \(servers.count) servers")
            #expect(linked.count == clients.count, "port \(port): \(linked.count) of \(clients.count) client connection spans linked")
        }
        Self.expectNoEmptySpans(spans)
    }
}
