import CLibBPF
import CPeriscopeBPF
import Foundation
@testable import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// A socket's address is reused by the next socket the kernel allocates, and the end of a
/// socket is not always seen (its process exits, `close_range`, `dup2`): the state the kernel
/// kept for the old socket is then found for the new one. A connect or accept starts it afresh.
/// The old state is written here for a connection between its two connects (a non-blocking
/// connect, then a second one that returns 0 once connected, each an OPEN): marked shed, with
/// its requests going the other way, it would keep the request that follows from being captured.
@Suite(.serialized) struct SocketReuseTests {
    @Test func aConnectStartsTheSocketsStateAfreshWhateverWasKeptAtItsAddress() throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer()
        try tracer.attach()
        let port = testPort(18594)
        let server = try TestProcess("python3", ["-c", """
            import socket, threading
            listener = socket.create_server(("127.0.0.1", \(port)))
            def answer(connection):
                connection.recv(4096); connection.sendall(b"HTTP/1.1 204 No Content\\r\\n\\r\\n"); connection.recv(4096)
            while True:
                threading.Thread(target=answer, args=(listener.accept()[0],)).start()
            """])
        defer { server.stop() }
        try waitForPort(port, of: server)
        let flags = FileManager.default.temporaryDirectory.appendingPathComponent("periscope-reuse-\(getpid())")
        try FileManager.default.createDirectory(at: flags, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: flags) }
        let client = try TestProcess("python3", ["-c", """
            import os, select, socket, time
            def wait_for(name):
                while not os.path.exists(os.path.join("\(flags.path)", name)): time.sleep(0.01)
            wait_for("connect")
            s = socket.socket(); s.setblocking(False)
            s.connect_ex(("127.0.0.1", \(port)))
            select.select([], [s], [], 5)
            wait_for("again")
            assert s.connect_ex(("127.0.0.1", \(port))) == 0
            s.setblocking(True)
            s.sendall(b"GET /after-reuse HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            s.recv(4096)
            s.close()
            """])
        defer { client.stop() }
        try tracer.apply(KernelFilter(allProcesses: false, targets: [client.pid: .withDescendants]))
        FileManager.default.createFile(atPath: flags.appendingPathComponent("connect").path, contents: nil)

        var events: [CaptureEvent] = []
        func pollUntil(_ timeout: Duration, _ done: () -> Bool) throws {
            let deadline = ContinuousClock.now + timeout
            while !done() && ContinuousClock.now < deadline {
                try tracer.poll(timeoutMilliseconds: 20) { record in
                    if let event = try? CaptureEvent(record: record), event.pid == client.pid { events.append(event) }
                }
            }
        }
        try pollUntil(.seconds(10)) { events.contains { $0.kind == .opened(.client) } }
        let opened = try #require(events.first { $0.kind == .opened(.client) }, "the first connect is seen")
        try Self.writeStaleState(for: opened.socketID, of: tracer)

        FileManager.default.createFile(atPath: flags.appendingPathComponent("again").path, contents: nil)
        #expect(client.wait() == 0, "the second connect returned 0 and the request was answered")
        try pollUntil(.seconds(2)) { false }
        let opens = events.filter { $0.kind == .opened(.client) && $0.socketID == opened.socketID }
        #expect(opens.count == 2, "both connects are seen")
        let request = events.first { $0.kind == .data(.egress) && $0.socketID == opened.socketID }
        #expect(request.map { String(decoding: $0.payload.prefix(20), as: UTF8.self) } == "GET /after-reuse HTT",
                "the request after the second connect is captured (counters: \(tracer.counters()))")
    }

    /// A TLS connection whose library moves its records outside its calls (Python's `SSLObject`
    /// over memory buffers, as Node.js does) gets its session bound to the socket and the socket
    /// marked TLS: its own transfers are records. The socket is then disconnected (`connect` with
    /// AF_UNSPEC) and connected again, to a cleartext server: the same socket state, as a socket
    /// at a reused address finds it. The cleartext request is captured as such, and the session's
    /// binding to the socket is gone.
    @Test func aCleartextConnectionAfterATLSOneAtTheSameSocketIsCapturedAsCleartext() throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer()
        let probes = try TLSProbes(sharing: tracer)
        try tracer.attach()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TLSProbesGateTests.libssl)))
        let elf = try ELFFile { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(offset)..<Int(min(offset + UInt64(count), UInt64(bytes.count)))])
        }
        let plan = try #require(try TLSProbePlanner.plan(for: elf))
        let links = try probes.attach(plan, path: TLSProbesGateTests.libssl)
        defer { withExtendedLifetime(links) {} }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("periscope-tls-reuse-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        _ = try run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                "-days", "2", "-subj", "/CN=127.0.0.1"])
        let server = try TestProcess("python3", ["-c", """
            import socket, ssl, threading
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain("\(certificate)", "\(key)")
            secure, clear = socket.create_server(("127.0.0.1", 0)), socket.create_server(("127.0.0.1", 0))
            print(secure.getsockname()[1], clear.getsockname()[1], flush=True)
            def answer(connection, wrap):
                try:
                    if wrap: connection = context.wrap_socket(connection, server_side=True)
                    connection.recv(4096)
                    connection.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
                    connection.recv(4096)
                except OSError:
                    pass
            def serve(listener, wrap):
                while True:
                    threading.Thread(target=answer, args=(listener.accept()[0], wrap)).start()
            threading.Thread(target=serve, args=(secure, True), daemon=True).start()
            serve(clear, False)
            """])
        defer { server.stop() }
        let deadline = ContinuousClock.now + .seconds(10)
        while server.log.split(separator: " ").count < 2 && ContinuousClock.now < deadline { usleep(10_000) }
        let ports = server.log.split(whereSeparator: \.isWhitespace).compactMap { UInt16($0) }
        try #require(ports.count == 2, "the servers' ports: \(server.log) \(server.errorLog)")
        let start = directory.appendingPathComponent("start")
        let client = try TestProcess("python3", ["-c", """
            import ctypes, os, socket, ssl, time
            while not os.path.exists("\(start.path)"): time.sleep(0.01)
            s = socket.socket()
            s.connect(("127.0.0.1", \(ports[0])))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = context.wrap_bio(incoming, outgoing)
            def pump(call):
                while True:
                    try:
                        result = call()
                        s.sendall(outgoing.read())
                        return result
                    except ssl.SSLWantReadError:
                        pending = outgoing.read()
                        if pending: s.sendall(pending)
                        incoming.write(s.recv(65536))
            pump(tls.do_handshake)
            pump(lambda: tls.write(b"GET /over-tls HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
            assert pump(lambda: tls.read(4096)).startswith(b"HTTP/1.1 200")
            unspecified = (ctypes.c_ubyte * 16)()
            assert ctypes.CDLL(None).connect(s.fileno(), unspecified, 16) == 0
            s.connect(("127.0.0.1", \(ports[1])))
            s.sendall(b"GET /in-cleartext HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            time.sleep(0.5)
            s.close()
            """])
        defer { client.stop() }
        try tracer.apply(KernelFilter(allProcesses: false, targets: [client.pid: .selfOnly]))
        _ = FileManager.default.createFile(atPath: start.path, contents: nil)

        var events: [CaptureEvent] = []
        var bindingGone: Bool?
        let deadline2 = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline2 {
            try tracer.poll(timeoutMilliseconds: 20) { record in
                if let event = try? CaptureEvent(record: record), event.pid == client.pid { events.append(event) }
            }
            let socket = events.first { $0.kind == .opened(.client) }?.socketID
            if let socket, bindingGone == nil, events.contains(where: { $0.kind == .data(.egress) && $0.tls == nil }) {
                bindingGone = try Self.sessionsBound(to: socket, of: tracer) == 0
            }
            if events.contains(where: { $0.kind == .closed }) { break }
        }
        #expect(client.wait() == 0, "the client's TLS and cleartext exchanges were answered: \(client.errorLog)")
        let socket = try #require(events.first { $0.kind == .opened(.client) }?.socketID, "the first connect is seen")
        let mine = events.filter { $0.socketID == socket }
        #expect(mine.filter { $0.kind == .opened(.client) }.count >= 2, "both connects are seen")
        #expect(mine.contains { $0.tls == .plaintext && $0.payload.starts(with: Array("GET /over-tls".utf8)) },
                "the TLS request is plaintext at the library")
        #expect(mine.contains { $0.tls == .records && $0.kind == .data(.egress) }, "the TLS connection's own transfers are records")
        let cleartext = mine.first { $0.kind == .data(.egress) && $0.payload.starts(with: Array("GET /in-cleartext".utf8)) }
        #expect(cleartext != nil && cleartext?.tls == nil,
                "the request after the second connect is captured as cleartext: \(mine.map { "\($0.kind) \(String(describing: $0.tls)) \($0.payload.count)" })")
        #expect(bindingGone == true, "no session is bound to the socket once it connected again")
    }

    /// How many entries of `tls_sessions` bind a session to `socketID`.
    private static func sessionsBound(to socketID: UInt64, of tracer: Tracer) throws -> Int {
        guard let sessions = bpf_object__find_map_by_name(tracer.object, "tls_sessions") else {
            throw BPFError(.mapFailed, "the tracer has no tls_sessions map")
        }
        var key = periscope_tls_session_key(), next = periscope_tls_session_key()
        var value = periscope_tls_socket()
        var bound = 0
        var first = true
        while withUnsafeMutablePointer(to: &key, { current in
            bpf_map_get_next_key(bpf_map__fd(sessions), first ? nil : UnsafeRawPointer(current), &next)
        }) == 0 {
            first = false
            key = next
            if bpf_map_lookup_elem(bpf_map__fd(sessions), &key, &value) == 0 && value.socket_id == socketID { bound += 1 }
        }
        return bound
    }

    /// The layout of a `socket_slots` value (struct socket_slot in bpf/include/periscope_shared_maps.h).
    private struct SocketSlot {
        var socketID: UInt64
        var state: periscope_socket_state
    }

    /// State an old socket at `socketID`'s address could have left: shed, its requests read.
    /// Written where the kernel keeps the socket's: its slot of `socket_slots`, else `sockets`.
    private static func writeStaleState(for socketID: UInt64, of tracer: Tracer) throws {
        var stale = periscope_socket_state()
        stale.shed = 1
        stale.request_direction = UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue)
        stale.last_direction = UInt8(PERISCOPE_DIRECTION_EGRESS.rawValue)
        guard let slots = bpf_object__find_map_by_name(tracer.object, "socket_slots"),
              let sockets = bpf_object__find_map_by_name(tracer.object, "sockets")
        else { throw BPFError(.mapFailed, "the tracer has no socket_slots or sockets map") }
        #expect(bpf_map__value_size(slots) == UInt32(MemoryLayout<SocketSlot>.size))
        for index in 0..<PERISCOPE_SOCKET_SLOTS {
            var key = UInt32(index)
            var slot = SocketSlot(socketID: 0, state: periscope_socket_state())
            if bpf_map_lookup_elem(bpf_map__fd(slots), &key, &slot) == 0 && slot.socketID == socketID {
                slot.state = stale
                #expect(bpf_map_update_elem(bpf_map__fd(slots), &key, &slot, 0) == 0)
                return
            }
        }
        var key = socketID
        #expect(bpf_map_update_elem(bpf_map__fd(sockets), &key, &stale, 0) == 0, "the socket's state is in sockets")
    }
}
