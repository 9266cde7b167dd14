import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// What the kernel program reports beyond plain reads and writes, on this kernel: the last
/// bytes of writes longer than the capture, splice, close_range and the descriptors an exec
/// leaves open.
@Suite(.serialized) struct TransferCaptureTests {
    /// One python process talking to itself over loopback once told to go.
    static let script = #"""
    import ctypes, os, socket, sys, time
    go = sys.argv[1]
    while not os.path.exists(go):
        time.sleep(0.01)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()

    def drain(count):
        got = 0
        while got < count:
            got += len(server.recv(65536))

    # writev: framing in buffers of its own, as Node writes a chunk
    parts = [b"H" * 100 + b"1388", b"\r\n", b"D" * 5000, b"\r\n", b"0\r\n\r\n"]
    os.writev(client.fileno(), parts)
    drain(sum(map(len, parts)))
    # write: one buffer whose last bytes are past the capture
    client.sendall(b"W" * 5000 + b"<end of the write>")
    drain(5018)
    # splice from a pipe into the socket, then out of the socket into a pipe
    r, w = os.pipe()
    os.write(w, b"S" * 3000)
    os.splice(r, client.fileno(), 3000)
    spliced = 0
    while spliced < 3000:
        spliced += os.splice(server.fileno(), w, 3000 - spliced)
    # close_range over the server socket's descriptor alone, while a duplicate holds it
    libc = ctypes.CDLL(None, use_errno=True)
    fd = server.fileno()
    holder = os.dup(fd)
    assert libc.syscall(436, fd, fd, 0) == 0
    # an exec: the client socket is close-on-exec, a duplicate made inheritable is not
    kept = os.dup(client.fileno())
    os.set_inheritable(kept, True)
    print(client.fileno(), kept, fd, flush=True)
    os.execv("/bin/sleep", ["sleep", "0.3"])
    """#

    static func isSleepExec(_ event: CaptureEvent) -> Bool {
        event.kind == .processExec && ExecutedImage(execPayload: event.payload)?.path?.hasSuffix("/sleep") == true
    }

    @Test(arguments: Tracer.Variant.allCases)
    func tailsSpliceCloseRangeAndExec(variant: Tracer.Variant) throws {
        try Tracefs.ensureMounted()
        let tracer = try Tracer(variant: variant)
        try tracer.attach()
        let go = FileManager.default.temporaryDirectory.appendingPathComponent("periscope-go-\(UUID().uuidString)").path
        let process = try TestProcess("python3", ["-c", Self.script, go])
        defer { process.stop() }
        try tracer.apply(KernelFilter(allProcesses: false, targets: [process.pid: .selfOnly], captureBytes: 64))
        FileManager.default.createFile(atPath: go, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: go) }

        var events: [CaptureEvent] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !events.contains(where: Self.isSleepExec) {
            try tracer.poll(timeoutMilliseconds: 50) { record in
                if let event = try? CaptureEvent(record: record), event.pid == process.pid { events.append(event) }
            }
        }
        _ = process.wait()
        let fds = process.log.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        try #require(fds.count == 3, "the script printed its descriptors: \(process.log) \(process.errorLog)")
        let (clientFD, keptFD, serverFD) = (fds[0], fds[1], fds[2])

        func data(_ direction: Direction, total: Int) -> CaptureEvent? {
            events.first { $0.kind == .data(direction) && $0.totalLength == total }
        }
        // writev: the prefix, then the last 64 bytes across the last three buffers.
        let writev = try #require(data(.egress, total: 5113))
        #expect(writev.tailLength == 64)
        #expect(writev.payload.count == 128)
        #expect(Array(writev.payload.suffix(64)) == Array(repeating: UInt8(ascii: "D"), count: 57) + Array("\r\n0\r\n\r\n".utf8))
        #expect(Array(writev.payload.prefix(64)) == Array(repeating: UInt8(ascii: "H"), count: 64))
        // a read of it all ends with the same bytes.
        let read = try #require(events.first { $0.kind == .data(.ingress) && $0.socketID != writev.socketID })
        #expect(read.tailLength == 64 || read.totalLength <= 128)
        // write: the last bytes of the one buffer.
        let write = try #require(data(.egress, total: 5018))
        #expect(write.tailLength == 64)
        #expect(String(decoding: write.payload.suffix(18), as: UTF8.self) == "<end of the write>")
        // splice, both ways, counted without payload.
        let splicedIn = events.filter { $0.kind == .data(.egress) && $0.totalLength == 3000 }
        #expect(splicedIn.count == 1 && splicedIn.first?.payload.isEmpty == true && splicedIn.first?.fd == clientFD)
        let splicedOut = events.filter { $0.kind == .data(.ingress) && $0.fd == serverFD && $0.payload.isEmpty }
        #expect(splicedOut.reduce(0) { $0 + $1.totalLength } == 3000)
        // close_range, as one range, the socket a duplicate still holds marked.
        let range = events.first { $0.kind == .closedRange(last: serverFD) && $0.fd == serverFD }
        #expect(range?.descriptorsStillHeld == 1)
        // the exec: the inheritable duplicate and the standard descriptors stay open, the
        // close-on-exec socket does not.
        let exec = try #require(events.first(where: Self.isSleepExec))
        let open = try #require(exec.descriptorsOpenAfterExec)
        #expect(open & 0b111 == 0b111)
        #expect(open & (1 << UInt64(keptFD)) != 0)
        #expect(open & (1 << UInt64(clientFD)) == 0)
        #expect(tracer.counters().lost == 0)
    }
}
