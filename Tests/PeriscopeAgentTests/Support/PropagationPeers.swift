import Foundation
import PeriscopeTestSupport

/// An HTTP/1.1 server (python3, one thread per connection, keep-alive) that records every
/// request exactly as the bytes arrived: head and body, one JSON line per request.
final class RecordingServer {
    let process: TestProcess
    let logPath: String

    static let script = """
        import base64, json, socketserver, sys, threading
        port, log_path, host = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        log = open(log_path, "a", buffering=1)
        lock = threading.Lock()
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                buffer = b""
                while True:
                    while b"\\r\\n\\r\\n" not in buffer:
                        chunk = self.request.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, buffer = buffer.partition(b"\\r\\n\\r\\n")
                    head += b"\\r\\n\\r\\n"
                    length = 0
                    for line in head.split(b"\\r\\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(buffer) < length:
                        chunk = self.request.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    body, buffer = buffer[:length], buffer[length:]
                    with lock:
                        log.write(json.dumps({"head": base64.b64encode(head).decode(), "body": base64.b64encode(body).decode()}) + "\\n")
                    close = b"\\r\\nconnection: close" in head.lower() or head.split(b"\\r\\n")[0].endswith(b"HTTP/1.0")
                    self.request.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n" + (b"Connection: close\\r\\n" if close else b"") + b"\\r\\nok")
                    if close:
                        return
        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
        server = Server((host, port), Handler)
        print("ready", flush=True)
        server.serve_forever()
        """

    /// Starts the server on `host:port`; `prefix` runs it elsewhere (e.g. `ip netns exec NAME`).
    init(port: UInt16, host: String = "127.0.0.1", in directory: TemporaryDirectory, prefix: [String] = []) throws {
        let script = try directory.write("recording-server-\(port).py", Self.script)
        logPath = "\(directory.path)/received-\(port).jsonl"
        let command = prefix + ["python3", script, "\(port)", logPath, host]
        process = try TestProcess(command[0], Array(command.dropFirst()))
        try process.waitForLog("ready", failure: "the recording server did not start")
    }

    deinit { process.stop() }

    struct Request {
        let head: [UInt8]
        let body: [UInt8]

        var bytes: [UInt8] { head + body }
        var text: String { String(decoding: head, as: UTF8.self) }
        var path: String { String(text.split(separator: " ").dropFirst().first ?? "") }
        /// Every `traceparent` header value, in order.
        var traceparents: [String] {
            text.split(separator: "\r\n").compactMap { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "traceparent" else { return nil }
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
    }

    var requests: [Request] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                  let head = object["head"].flatMap({ Data(base64Encoded: $0) }),
                  let body = object["body"].flatMap({ Data(base64Encoded: $0) })
            else { return nil }
            return Request(head: [UInt8](head), body: [UInt8](body))
        }
    }

    /// Waits until `count` requests arrived.
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [Request] {
        let deadline = ContinuousClock.now + timeout
        while requests.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
        }
        return requests
    }
}

/// A caller started now but held until `release()`: its PID can go into a policy first.
final class GatedCaller {
    let process: TestProcess
    private let gate: String

    /// `command` runs (exec'd, same PID) once released; `prefix` runs it elsewhere.
    init(_ command: [String], in directory: TemporaryDirectory, prefix: [String] = []) throws {
        gate = "\(directory.path)/go-\(UUID().uuidString)"
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let shell = ["sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.02; done; exec \(quoted)"]
        let full = prefix + shell
        process = try TestProcess(full[0], Array(full.dropFirst()))
    }

    var pid: Int32 { process.pid }

    /// Lets the command run and waits for it to end.
    func run() throws {
        FileManager.default.createFile(atPath: gate, contents: nil)
        process.wait()
    }

    /// A python3 client that writes `chunks` on one connection, 200 ms apart, then reads
    /// `responses` responses. It prints how many TCP segments with data each write left in
    /// (`segments [n, ...]`); `noDelay` sets TCP_NODELAY, as most HTTP clients do.
    static func raw(
        host: String = "127.0.0.1", port: UInt16, chunks: [String], responses: Int, noDelay: Bool = false, in directory: TemporaryDirectory
    ) throws -> GatedCaller {
        let script = try directory.write("raw-client.py", """
            import base64, json, socket, struct, sys, time
            host, port, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
            chunks = [base64.b64decode(chunk) for chunk in json.loads(sys.argv[3])]
            connection = socket.create_connection((host, port))
            if sys.argv[5] == "1":
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            def data_segments_out():
                # struct tcp_info: tcpi_data_segs_out at byte 156
                return struct.unpack_from("<I", connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160), 156)[0]
            segments = []
            for index, chunk in enumerate(chunks):
                if index:
                    time.sleep(0.2)
                before = data_segments_out()
                connection.sendall(chunk)
                time.sleep(0.05)
                segments.append(data_segments_out() - before)
            print("segments", json.dumps(segments), flush=True)
            connection.settimeout(5)
            received = b""
            while received.count(b"HTTP/1.1 200") < expected:
                data = connection.recv(65536)
                if not data:
                    break
                received += data
            print("responses", received.count(b"HTTP/1.1 200"), flush=True)
            """)
        let encoded = chunks.map { Data($0.utf8).base64EncodedString() }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: encoded), as: UTF8.self)
        return try GatedCaller(["python3", script, host, "\(port)", json, "\(responses)", noDelay ? "1" : "0"], in: directory)
    }
}

/// Two network namespaces joined by a veth pair: `a` at 10.231.7.1, `b` at 10.231.7.2.
final class VethPair {
    let a: String
    let b: String
    static let addressA = "10.231.7.1"
    static let addressB = "10.231.7.2"

    init(name: String) throws {
        a = "\(name)-a"
        b = "\(name)-b"
        Self.remove(a, b)
        let steps: [[String]] = [
            ["netns", "add", a], ["netns", "add", b],
            ["link", "add", "\(name)a", "type", "veth", "peer", "name", "\(name)b"],
            ["link", "set", "\(name)a", "netns", a], ["link", "set", "\(name)b", "netns", b],
            ["-n", a, "addr", "add", "\(Self.addressA)/24", "dev", "\(name)a"],
            ["-n", b, "addr", "add", "\(Self.addressB)/24", "dev", "\(name)b"],
            ["-n", a, "link", "set", "\(name)a", "up"], ["-n", b, "link", "set", "\(name)b", "up"],
            ["-n", a, "link", "set", "lo", "up"], ["-n", b, "link", "set", "lo", "up"],
        ]
        for step in steps {
            let process = try TestProcess("ip", step)
            guard process.wait() == 0 else {
                Self.remove(a, b)
                throw TestFailure("ip \(step.joined(separator: " ")) failed:\n\(process.log)")
            }
        }
    }

    deinit { Self.remove(a, b) }

    /// Runs a command in a namespace.
    func inside(_ namespace: String) -> [String] { ["ip", "netns", "exec", namespace] }

    private static func remove(_ names: String...) {
        for name in names { _ = try? TestProcess("ip", ["netns", "del", name]).wait() }
    }
}

/// A python3 client that opens `connections` keep-alive connections at once, then, once
/// released, sends `requests` GET requests on each of them in turn and reads the responses.
final class ConnectedCaller {
    let process: TestProcess
    private let gate: String

    static let script = """
        import http.client, os, sys, time
        port, count, requests, gate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        connections = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(count)]
        for connection in connections:
            connection.connect()
        print("connected", flush=True)
        while not os.path.exists(gate):
            time.sleep(0.02)
        for round in range(requests):
            for index, connection in enumerate(connections):
                connection.request("GET", "/held-%d-%d" % (index, round))
                connection.getresponse().read()
        print("done", flush=True)
        """

    /// Starts the client (`python`: the interpreter to run it with) and waits until its
    /// connections are open.
    init(port: UInt16, connections: Int, requests: Int, python: String = "python3", in directory: TemporaryDirectory) throws {
        let script = try directory.write("connected-caller-\(port).py", Self.script)
        gate = "\(directory.path)/go-\(UUID().uuidString)"
        process = try TestProcess(python, [script, "\(port)", "\(connections)", "\(requests)", gate])
        try process.waitForLog("connected", failure: "the client did not connect")
    }

    deinit { process.stop() }

    var pid: Int32 { process.pid }

    /// Lets it send its requests and waits for it to end.
    func run() {
        FileManager.default.createFile(atPath: gate, contents: nil)
        process.wait()
    }
}
