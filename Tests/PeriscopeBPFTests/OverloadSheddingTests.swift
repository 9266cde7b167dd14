import CLibBPF
import CPeriscopeBPF
import Foundation
@testable import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// Under overload the kernel sheds whole new connections and requests, never part of an
/// exchange being captured: a reader that does not read makes half of a small ring buffer
/// fill, and what was captured still decodes into whole exchanges. The same when every slot of
/// `socket_slots` is taken (by an address no socket has), so that each socket's state, which
/// shedding lives on, is kept in the `sockets` map instead.
@Suite(.serialized) struct OverloadSheddingTests {
    @Test(arguments: [false, true])
    func aReaderFallingBehindLosesWholeConnectionsAndRequestsNeverPartsOfThem(everySlotTaken: Bool) throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(ringBufferBytes: 64 * 1024)
        if everySlotTaken {
            try Self.fillSocketSlots(of: tracer, with: 1)
        }
        try tracer.attach()
        let port = testPort(18593)
        let server = try TestProcess("python3", ["-c", """
            import http.server, socketserver
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    body = b"x" * 600
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args): pass
            socketserver.TCPServer.allow_reuse_address = True
            http.server.ThreadingHTTPServer(("127.0.0.1", \(port)), Handler).serve_forever()
            """])
        defer { server.stop() }
        try waitForPort(port, of: server)
        try tracer.apply(KernelFilter(allProcesses: false, targets: [server.pid: .withDescendants]))
        // Keep-alive connections making many requests each, with nobody reading the ring buffer.
        try run("python3", ["-c", """
            import http.client
            for c in range(12):
                conn = http.client.HTTPConnection("127.0.0.1", \(port))
                for i in range(30):
                    conn.request("GET", f"/c{c}/r{i}")
                    conn.getresponse().read()
                conn.close()
            """])
        var tracker = ConnectionTracker(clock: ClockMapping(offsetNanos: 0))
        var spans: [Span] = []
        var events = 0
        for _ in 0..<20 {
            try tracer.poll(timeoutMilliseconds: 20) { record in
                guard let event = try? CaptureEvent(record: record) else { return }
                events += 1
                tracker.handle(event, into: &spans)
            }
        }
        spans += tracker.finishAll(at: .max / 2, reason: "test over")
        let counters = tracer.counters()
        #expect(counters.lost == 0, "shedding kept the ring buffer from overflowing")
        #expect(counters.shedConnections + counters.shedRequests > 0, "the reader was behind: something was shed")
        #expect(counters.shedEvents > 0)
        let exchanges = spans.filter { $0.http != nil }
        #expect(!exchanges.isEmpty, "what was captured before the buffer filled still decodes")
        for span in exchanges {
            #expect(span.status != .error && span.http?.statusCode == 200 && span.http?.responseBodySize == 600,
                    "a whole exchange: \(span.http?.target ?? "?") \(span.statusMessage ?? "")")
        }
        #expect(tracker.counters.decodeErrors == 0 && tracker.counters.lostSync == 0)
        if everySlotTaken {
            #expect(try Self.socketSlotsHolding(1, of: tracer) == Int(PERISCOPE_SOCKET_SLOTS), "no socket claimed a taken slot")
        }
    }

    /// The layout of a `socket_slots` value (struct socket_slot in bpf/include/periscope_shared_maps.h).
    private struct SocketSlot {
        var socketID: UInt64
        var state: periscope_socket_state
    }

    private static func socketSlots(of tracer: Tracer) throws -> Int32 {
        guard let map = bpf_object__find_map_by_name(tracer.object, "socket_slots") else {
            throw BPFError(.mapFailed, "the tracer has no socket_slots map")
        }
        #expect(bpf_map__value_size(map) == UInt32(MemoryLayout<SocketSlot>.size))
        return bpf_map__fd(map)
    }

    private static func fillSocketSlots(of tracer: Tracer, with socketID: UInt64) throws {
        let descriptor = try socketSlots(of: tracer)
        var slot = SocketSlot(socketID: socketID, state: periscope_socket_state())
        for index in 0..<PERISCOPE_SOCKET_SLOTS {
            var key = UInt32(index)
            #expect(bpf_map_update_elem(descriptor, &key, &slot, 0) == 0)
        }
    }

    private static func socketSlotsHolding(_ socketID: UInt64, of tracer: Tracer) throws -> Int {
        let descriptor = try socketSlots(of: tracer)
        var holding = 0
        var slot = SocketSlot(socketID: 0, state: periscope_socket_state())
        for index in 0..<PERISCOPE_SOCKET_SLOTS {
            var key = UInt32(index)
            if bpf_map_lookup_elem(descriptor, &key, &slot) == 0 && slot.socketID == socketID {
                holding += 1
            }
        }
        return holding
    }
}
