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

    /// The layout of a `socket_slots` value (struct socket_slot in bpf/tracer.bpf.c).
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
