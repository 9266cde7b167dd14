import Testing
@testable import PeriscopeCore

/// What real servers and clients do to connections beyond one request at a time: bodies
/// larger than the capture, descriptors closed in bulk or by exec, upgrades, long idle
/// keep-alive sessions, exits without close.
@Suite struct ConnectionTrackerServerLifecycleTests {
    /// How the kernel program captures what one syscall moved: a prefix of `capture` bytes
    /// and, when that stops short, the last bytes (at most 64) of the last three buffers,
    /// flagged as a tail when bytes between the two were not copied.
    static func captured(_ buffers: [[UInt8]], capture: Int) -> (payload: [UInt8], tail: Int, total: Int) {
        let all = buffers.flatMap { $0 }
        let prefix = Array(all.prefix(capture))
        guard all.count > prefix.count else { return (prefix, 0, all.count) }
        let missing = all.count - prefix.count
        let reachable = buffers.suffix(3).flatMap { $0 }
        let size = min(missing, reachable.count, 64)
        return (prefix + reachable.suffix(size), missing > size ? size : 0, all.count)
    }

    static func event(
        _ c: Connection, _ direction: Direction, _ buffers: [[UInt8]], capture: Int, at timestamp: UInt64
    ) -> CaptureEvent {
        let (payload, tail, total) = captured(buffers, capture: capture)
        var event = c.event(.data(direction), at: timestamp, bytes: payload, total: total)
        event.tailLength = tail
        return event
    }

    static func body(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    }

    static func chunk(_ data: [UInt8]) -> [UInt8] {
        Array(String(data.count, radix: 16).utf8) + Array("\r\n".utf8) + data + Array("\r\n".utf8)
    }

    static let lastChunk = Array("0\r\n\r\n".utf8)

    /// Three ways writers frame chunked bodies, each seen by the writer and by a reader whose
    /// reads return what each write wrote: sizes are exact on both ends whatever the capture.
    enum Writer: CaseIterable {
        /// Each chunk in one write with its framing; the last chunk in a write of its own
        /// (python's http.server, aiohttp).
        case chunkPerWrite
        /// The whole message in one write.
        case oneWrite
        /// writev with the head and the chunk size in one buffer, then the CRLF, the data,
        /// the CRLF and the last chunk in buffers of their own (Node's http).
        case framingInOwnBuffers
    }

    static func writes(head: String, chunks: [[UInt8]], writer: Writer) -> [[[UInt8]]] {
        let head = Array(head.utf8)
        switch writer {
        case .chunkPerWrite:
            return [[head]] + chunks.map { [chunk($0)] } + [[lastChunk]]
        case .oneWrite:
            return [[head + chunks.flatMap(chunk) + lastChunk]]
        case .framingInOwnBuffers:
            var buffers: [[UInt8]] = [head]
            for data in chunks {
                buffers[buffers.count - 1] += Array(String(data.count, radix: 16).utf8)
                buffers += [Array("\r\n".utf8), data, Array("\r\n".utf8)]
            }
            return [buffers + [lastChunk]]
        }
    }

    /// Captures from one that holds the heads and the first chunk's size line.
    @Test(arguments: Writer.allCases, [100, 256, 2048])
    func chunkedBodiesAreExactWhateverTheCaptureSize(writer: Writer, capture: Int) {
        let request = Self.writes(
            head: "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            chunks: [Self.body(4096)], writer: writer
        )
        // Where one write carries the framing of several chunks, the framing between them is
        // beyond what a small capture sees: those writers send one chunk here.
        let responseChunks = writer == .chunkPerWrite ? [Self.body(1000), Self.body(2000)] : [Self.body(3000)]
        let response = Self.writes(
            head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunks: responseChunks, writer: writer
        )
        let client = Connection(pid: 10, fd: 3, socketID: 1, local: .init(ipv4: 127, 0, 0, 1, port: 40000), peer: .init(ipv4: 127, 0, 0, 1, port: 8080))
        let server = Connection(pid: 20, fd: 4, socketID: 2, local: client.peer, peer: client.local)
        var tracker = makeTracker()
        var events = [client.opened(.client, at: 1), server.opened(.server, at: 2)]
        var now: UInt64 = 10
        for write in request {
            events.append(Self.event(client, .egress, write, capture: capture, at: now))
            events.append(Self.event(server, .ingress, [write.flatMap { $0 }], capture: capture, at: now + 1))
            now += 10
        }
        for write in response {
            events.append(Self.event(server, .egress, write, capture: capture, at: now))
            events.append(Self.event(client, .ingress, [write.flatMap { $0 }], capture: capture, at: now + 1))
            now += 10
        }
        var spans = tracker.run(events)
        spans += tracker.finishAll(at: now, reason: "done")
        #expect(spans.count == 2)
        for span in spans {
            #expect(span.http?.requestBodySize == 4096, "\(span.kind)")
            #expect(span.http?.responseBodySize == 3000, "\(span.kind)")
            #expect(span.status == .unset)
        }
        #expect(tracker.counters.lostSync == 0)
    }

    /// One read or write holding several chunk boundaries past the capture: a server writing
    /// a whole chunked message at once, read by a client in reads of `readSize` bytes whose
    /// ends fall anywhere (inside chunk data, a size line, a CRLF), and a client sending
    /// several chunks per write. The kernel's walk of the chunk headers makes both sizes exact.
    @Test(arguments: [100, 256, 2048], [700, 1000, 4096, 65536])
    func chunkBoundariesPastTheCaptureAreCountedFromTheKernelsWalk(capture: Int, readSize: Int) {
        let requestChunks = [Self.body(1500), Self.body(10), Self.body(2500), Self.body(700)]
        let responseChunks = [Self.body(4000), Self.body(1), Self.body(300), Self.body(5000), Self.body(17)]
        let requestHead = Array("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let responseHead = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let request = requestHead + requestChunks.flatMap(Self.chunk) + Self.lastChunk
        let response = responseHead + responseChunks.flatMap(Self.chunk) + Array("0\r\nX-Checksum: 1\r\n\r\n".utf8)
        let client = Connection(pid: 10, fd: 3, socketID: 1, local: .init(ipv4: 127, 0, 0, 1, port: 40000), peer: .init(ipv4: 127, 0, 0, 1, port: 8080))
        let server = Connection(pid: 20, fd: 4, socketID: 2, local: client.peer, peer: client.local)
        var now: UInt64 = 10
        /// `stream` moved in syscalls ending at `ends` (the last at its end), each with the kernel's walk.
        func syscalls(_ c: Connection, _ direction: Direction, _ stream: [UInt8], bodyStart: Int, ends: [Int]) -> [CaptureEvent] {
            var start = 0
            return (ends + [stream.count]).filter { $0 > 0 && $0 <= stream.count }.map { end in
                let bytes = Array(stream[start..<max(start, end)])
                var event = Self.event(c, direction, [bytes], capture: capture, at: now)
                event.chunkWalk = kernelChunkWalk(stream: stream, bodyStart: bodyStart, start: start, moved: bytes.count, prefix: min(capture, bytes.count))
                now += 1
                start = max(start, end)
                return event
            }.filter { $0.totalLength > 0 }
        }
        func reads(of stream: [UInt8]) -> [Int] { Array(stride(from: readSize, to: stream.count, by: readSize)) }
        var events = [client.opened(.client, at: 1), server.opened(.server, at: 2)]
        // The client sends the head and two chunks in one write, the other chunks in another.
        let firstWrite = requestHead.count + Self.chunk(requestChunks[0]).count + Self.chunk(requestChunks[1]).count
        events += syscalls(client, .egress, request, bodyStart: requestHead.count, ends: [firstWrite])
        events += syscalls(server, .ingress, request, bodyStart: requestHead.count, ends: reads(of: request))
        // The server writes the whole response at once; the client reads it in pieces.
        events += syscalls(server, .egress, response, bodyStart: responseHead.count, ends: [])
        events += syscalls(client, .ingress, response, bodyStart: responseHead.count, ends: reads(of: response))
        var tracker = makeTracker()
        var spans = tracker.run(events)
        spans += tracker.finishAll(at: now + 10, reason: "done")
        #expect(spans.count == 2)
        for span in spans {
            #expect(span.http?.requestBodySize == requestChunks.map(\.count).reduce(0, +), "\(span.kind)")
            #expect(span.http?.responseBodySize == responseChunks.map(\.count).reduce(0, +), "\(span.kind)")
            #expect(span.status == .unset && span.http?.statusCode == 200)
        }
        #expect(tracker.counters.lostSync == 0)
    }

    /// Node's corked writes: one writev of the head and a size, then CRLF, data, CRLF per chunk
    /// in buffers of their own (49 buffers), read by a server whose first read is short (the
    /// head and 100 bytes of the first chunk, captured whole) and whose next reads start in
    /// the middle of a chunk. With the kernel's walk (it reads the iovecs as one stream and
    /// goes on from the short read) the sizes are exact; without it they are unknown, never
    /// counted with their framing.
    @Test(arguments: [true, false], [100, 256])
    func corkedWritevAndReadsStartingMidChunkAreExactWithTheWalkAndUnknownWithout(walked: Bool, capture: Int) {
        let chunks = (0..<12).map { Self.body(500 + $0) }
        let head = Array("POST /corked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var buffers = [head]
        for data in chunks {
            buffers[buffers.count - 1] += Array(String(data.count, radix: 16).utf8)
            buffers += [Array("\r\n".utf8), data, Array("\r\n".utf8)]
        }
        buffers.append(Self.lastChunk)
        let request = buffers.flatMap { $0 }
        let response = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        let client = Connection(pid: 10, fd: 3, socketID: 1, local: .init(ipv4: 127, 0, 0, 1, port: 40000), peer: .init(ipv4: 127, 0, 0, 1, port: 8080))
        let server = Connection(pid: 20, fd: 4, socketID: 2, local: client.peer, peer: client.local)
        var events = [client.opened(.client, at: 1), server.opened(.server, at: 2)]
        var write = Self.event(client, .egress, buffers, capture: capture, at: 10)
        if walked { write.chunkWalk = kernelChunkWalk(stream: request, bodyStart: head.count, start: 0, moved: request.count, prefix: capture) }
        events.append(write)
        let firstRead = min(capture, head.count + 4 + 100)
        var start = 0
        for (index, end) in [firstRead, firstRead + 1777, firstRead + 4000, request.count].enumerated() {
            var read = Self.event(server, .ingress, [Array(request[start..<end])], capture: capture, at: 11 + UInt64(index))
            if walked {
                read.chunkWalk = kernelChunkWalk(stream: request, bodyStart: head.count, start: start, moved: end - start, prefix: min(capture, end - start))
            }
            events.append(read)
            start = end
        }
        events.append(server.event(.data(.egress), at: 20, bytes: response, total: response.count))
        events.append(client.event(.data(.ingress), at: 21, bytes: response, total: response.count))
        var tracker = makeTracker()
        var spans = tracker.run(events)
        spans += tracker.finishAll(at: 30, reason: "done")
        #expect(spans.count == 2)
        for span in spans {
            #expect(span.http?.requestBodySize == (walked ? chunks.map(\.count).reduce(0, +) : nil), "\(span.kind)")
            #expect(span.http?.responseBodySize == 0)
            #expect(span.http?.statusCode == 204)
            if !walked { #expect(!span.attributes.contains { $0.key == "http.request.body.size" }) }
        }
    }

    /// A walk that did not start where the decoder puts the next chunk header (the kernel
    /// started from a wrong guess) is ignored: the gap is counted as before it existed.
    @Test func chunkWalkNotAnchoredWhereTheDecoderExpectsIsIgnored() {
        var decoder = HTTP1Decoder(kind: .response)
        let prefix = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123".utf8)
        var events = decoder.decode(prefix)
        // 12 bytes of the chunk remain, then its CRLF: the next header is there.
        let walk = ChunkWalk(anchor: prefix.count + 13, dataBytes: 20, end: prefix.count + 45, endsAtHeader: false)
        #expect(!decoder.skip(40, after: prefix.count, tail: [], walk: walk, into: &events))
        var exact = walk
        exact.anchor = prefix.count + 12 + 2
        #expect(decoder.skip(40, after: prefix.count, tail: [], walk: exact, into: &events))
        #expect(!events.contains(.lostSync))
        #expect(decoder.finish().isEmpty, "still inside a chunk, in sync")
    }

    @Test func closeRangeEndsTheConnectionsInItsRangeAtOnce() {
        let low = Connection(fd: 3), inside = Connection(fd: 5, socketID: 2), high = Connection(fd: 9, socketID: 3)
        var tracker = makeTracker()
        var spans = tracker.run([low.opened(.server, at: 1), inside.opened(.server, at: 2), high.opened(.client, at: 3)])
        spans = tracker.handle(CaptureEvent(kind: .closedRange(last: 8), timestamp: 50, pid: 100, tid: 100, fd: 4))
        #expect(spans.map(\.endTimeUnixNano) == [unix(50)])
        #expect(spans.map(\.kind) == [.server])
        #expect(tracker.counters.openConnections == 2)
        spans = tracker.handle(CaptureEvent(kind: .closedRange(last: .max), timestamp: 60, pid: 100, tid: 100, fd: 0))
        #expect(spans.map(\.kind) == [.server, .client])
        #expect(tracker.counters.openConnections == 0)
    }

    @Test func execEndsTheConnectionsItClosedAndKeepsTheOthers() {
        let cloexec = Connection(fd: 5), inherited = Connection(fd: 1, socketID: 2), high = Connection(fd: 70, socketID: 3)
        var tracker = makeTracker()
        _ = tracker.run([cloexec.opened(.server, at: 1), inherited.opened(.server, at: 2), high.opened(.server, at: 3)])
        var exec = CaptureEvent(kind: .processExec, timestamp: 40, pid: 100, tid: 100, fd: -1)
        exec.descriptorsOpenAfterExec = 0b111
        let spans = tracker.handle(exec)
        #expect(spans.map(\.endTimeUnixNano) == [unix(40)])
        #expect(tracker.counters.openConnections == 2)
        var unknown = exec
        unknown.descriptorsOpenAfterExec = nil
        #expect(tracker.handle(unknown).isEmpty)
    }

    /// A WebSocket handshake (`101 Switching Protocols`) is one HTTP span on each end; the
    /// frames after it are one span per end, a child of that end's exchange, with the bytes
    /// moved after the switch.
    @Test func webSocketAfterAnUpgradeIsASpanOfItsOwnOnBothEnds() {
        let client = Connection(pid: 10, fd: 3, socketID: 1, local: .init(ipv4: 127, 0, 0, 1, port: 40000), peer: .init(ipv4: 127, 0, 0, 1, port: 8080))
        let server = Connection(pid: 20, fd: 4, socketID: 2, local: client.peer, peer: client.local)
        let request = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        let frame: [UInt8] = [0x81, 0x85, 1, 2, 3, 4] + Array("hello".utf8)
        let echo: [UInt8] = [0x81, 0x05] + Array("hello".utf8)
        var tracker = makeTracker()
        var spans = tracker.run([
            client.opened(.client, at: 1), server.opened(.server, at: 2),
            client.write(request, at: 10), server.read(request, at: 11),
            server.write(response, at: 20), client.read(response, at: 21),
            client.write(bytes: frame, at: 30), server.read(bytes: frame, at: 31),
            server.write(bytes: echo, at: 40), client.read(bytes: echo, at: 41),
            client.write(bytes: [0x88, 0x80, 0, 0, 0, 0], at: 50), server.read(bytes: [0x88, 0x80, 0, 0, 0, 0], at: 51),
        ])
        #expect(spans.map(\.name) == ["GET", "GET"])
        #expect(spans.map { $0.http?.statusCode } == [101, 101])
        spans += tracker.run([server.closed(at: 60), client.closed(at: 61)])
        #expect(spans.map(\.name) == ["GET", "GET", "websocket", "websocket"])
        let handshakes = Dictionary(uniqueKeysWithValues: spans.filter { $0.name == "GET" }.map { ($0.kind, $0) })
        let sessions = Dictionary(uniqueKeysWithValues: spans.filter { $0.name == "websocket" }.map { ($0.kind, $0) })
        #expect(handshakes[.server]?.parentSpanID == handshakes[.client]?.spanID)
        #expect(sessions[.server]?.parentSpanID == handshakes[.server]?.spanID)
        #expect(sessions[.client]?.parentSpanID == handshakes[.client]?.spanID)
        #expect(Set(spans.map(\.traceID)).count == 1)
        #expect(sessions[.server]?.tcp == TCPDetails(bytesSent: 7, bytesReceived: 17))
        #expect(sessions[.client]?.tcp == TCPDetails(bytesSent: 17, bytesReceived: 7))
        #expect(sessions[.server]?.startTimeUnixNano == unix(20))
        #expect(sessions[.server]?.endTimeUnixNano == unix(60))
        #expect(tracker.counters.decodeErrors == 0)
    }

    /// A keep-alive connection idle for longer than the idle timeout between two requests is
    /// one connection while its process still holds the socket; it expires once it does not.
    @Test func idleKeepAliveConnectionStillHeldStaysOneConnection() {
        let c = Connection()
        var tracker = makeTracker()
        var spans = tracker.run([c.opened(.server, at: 1), c.read("GET /a HTTP/1.1\r\n\r\n", at: 2), c.write("HTTP/1.1 204 No Content\r\n\r\n", at: 3)])
        var held = true
        for minute: UInt64 in 1...5 {
            spans += tracker.expireIdle(now: minute * 60_000_000_000, idleNanos: 30_000_000_000) { _, _ in held }
        }
        #expect(tracker.counters.openConnections == 1)
        spans += tracker.run([c.read("GET /b HTTP/1.1\r\n\r\n", at: 301_000_000_000), c.write("HTTP/1.1 204 No Content\r\n\r\n", at: 301_000_000_001)])
        #expect(spans.map(\.kind) == [.server, .server])
        #expect(spans.map(\.http?.path) == ["/a", "/b"])
        held = false
        spans = tracker.expireIdle(now: 400_000_000_000, idleNanos: 30_000_000_000) { _, _ in held }
        #expect(spans.isEmpty, "an HTTP connection that gave spans leaves none when it ends")
        #expect(tracker.counters.openConnections == 0)
    }
}
