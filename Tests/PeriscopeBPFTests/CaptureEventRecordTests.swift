import CPeriscopeBPF
import PeriscopeBPF
import PeriscopeCore
import Testing

/// Ring buffer records decoded into events, in place and afresh: no kernel needed.
struct CaptureEventRecordTests {
    /// A record laid out as `struct periscope_event`: the header, then `payload`.
    struct Record {
        var bytes: [UInt8]

        init(kind: UInt32, pid: UInt32 = 1234, tid: UInt32 = 1235, fd: Int32 = 7, socketID: UInt64 = 0xabcd, totalLength: UInt32 = 0, payload: [UInt8] = []) {
            bytes = [UInt8](repeating: 0, count: Int(PERISCOPE_EVENT_HEADER_SIZE)) + payload
            set(\.timestamp_ns, 5_000_000_000 as UInt64)
            set(\.socket_id, socketID)
            set(\.kind, kind)
            set(\.pid, pid)
            set(\.tid, tid)
            set(\.fd, fd)
            set(\.total_len, totalLength)
            set(\.captured_len, UInt32(payload.count))
            let tuple = MemoryLayout<periscope_event>.offset(of: \.tuple)!
            let local: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]
            let peer: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]
            let localAt = tuple + MemoryLayout<periscope_tuple>.offset(of: \.local_addr)!
            let peerAt = tuple + MemoryLayout<periscope_tuple>.offset(of: \.peer_addr)!
            bytes.replaceSubrange(localAt..<(localAt + 16), with: local)
            bytes.replaceSubrange(peerAt..<(peerAt + 16), with: peer)
            setRaw(tuple + MemoryLayout<periscope_tuple>.offset(of: \.local_port)!, 8080 as UInt16)
            setRaw(tuple + MemoryLayout<periscope_tuple>.offset(of: \.peer_port)!, 40000 as UInt16)
        }

        mutating func set<T: FixedWidthInteger>(_ path: KeyPath<periscope_event, T>, _ value: T) {
            setRaw(MemoryLayout<periscope_event>.offset(of: path)!, value)
        }

        private mutating func setRaw<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
            withUnsafeBytes(of: value) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
        }

        func decoded() throws -> CaptureEvent {
            try bytes.withUnsafeBytes { try CaptureEvent(record: $0) }
        }

        func update(_ event: inout CaptureEvent) throws {
            try bytes.withUnsafeBytes { try event.update(record: $0) }
        }
    }

    static let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)

    @Test func decodesADataRecord() throws {
        var record = Record(kind: PERISCOPE_EVENT_DATA.rawValue, totalLength: 5000, payload: Self.request + [1, 2, 3])
        record.set(\.direction, UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue))
        record.set(\.tail_len, 3)
        record.set(\.flags, UInt16(PERISCOPE_EVENT_FLAG_RESUMED.rawValue))
        let event = try record.decoded()
        #expect(event.kind == .data(.ingress))
        #expect(event.timestamp == 5_000_000_000)
        #expect(event.pid == 1234 && event.tid == 1235 && event.fd == 7 && event.socketID == 0xabcd)
        #expect(event.local == SocketAddress(ipv4: 127, 0, 0, 1, port: 8080))
        #expect(event.peer == SocketAddress(ipv4: 10, 1, 2, 3, port: 40000))
        #expect(event.totalLength == 5000)
        #expect(event.payload == Self.request + [1, 2, 3])
        #expect(event.tailLength == 3)
        #expect(event.resumedAfterShedding)
        #expect(!event.socketStillOpen)
        #expect(event.chunkWalk == nil)
        #expect(event.descriptorsOpenAfterExec == nil)
        #expect(event.tls == nil)
    }

    @Test func decodesRecordAfterRecordIntoOneEventAsEachAlone() throws {
        var long = Record(kind: PERISCOPE_EVENT_DATA.rawValue, totalLength: UInt32(Self.request.count), payload: Self.request)
        long.set(\.direction, UInt8(PERISCOPE_DIRECTION_EGRESS.rawValue))
        var short = Record(kind: PERISCOPE_EVENT_DATA.rawValue, fd: 9, totalLength: 2, payload: [0x41, 0x42])
        short.set(\.direction, UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue))
        let opened = {
            var record = Record(kind: PERISCOPE_EVENT_OPEN.rawValue)
            record.set(\.role, UInt8(PERISCOPE_ROLE_CLIENT.rawValue))
            return record
        }()
        let exec = Record(kind: PERISCOPE_EVENT_EXEC.rawValue, fd: -1, socketID: 0b1011, payload: Array("/usr/bin/curl\0".utf8))
        let closedRange = Record(kind: PERISCOPE_EVENT_CLOSE_RANGE.rawValue, fd: 3, socketID: 0b10, totalLength: 40)
        let fork = Record(kind: PERISCOPE_EVENT_FORK.rawValue, fd: 99)
        var event = CaptureEvent(kind: .closed, timestamp: 0, pid: 0, tid: 0, fd: -1)
        for record in [long, short, opened, exec, long, closedRange, fork, short, long] {
            try record.update(&event)
            #expect(event == (try record.decoded()))
        }
        #expect(try exec.decoded().descriptorsOpenAfterExec == 0b1011)
        #expect(try exec.decoded().socketID == 0)
        #expect(try closedRange.decoded().kind == .closedRange(last: 40))
        #expect(try closedRange.decoded().descriptorsStillHeld == 0b10)
        #expect(try fork.decoded().kind == .processForked(parent: 99))
        #expect(try fork.decoded().fd == -1)
        #expect(try opened.decoded().kind == .opened(.client))
        #expect(try short.decoded().payload == [0x41, 0x42])
    }

    @Test func decodesATraceContextRecord() throws {
        var context = [UInt8](repeating: 0, count: MemoryLayout<periscope_trace_context>.size)
        context.replaceSubrange(0..<16, with: (1...16).map { UInt8($0) })
        context.replaceSubrange(16..<24, with: [0, 0, 0, 0, 0, 0, 0, 0x2a])
        context.replaceSubrange(24..<32, with: [0, 0, 0, 0, 0, 0, 0, 0x07])
        context[MemoryLayout<periscope_trace_context>.offset(of: \.flags)!] = 1
        context[MemoryLayout<periscope_trace_context>.offset(of: \.origin)!] = UInt8(PERISCOPE_CONTEXT_SERVER.rawValue)
        context[MemoryLayout<periscope_trace_context>.offset(of: \.parent_remote)!] = 1
        let event = try Record(kind: PERISCOPE_EVENT_TRACE_CONTEXT.rawValue, fd: -1, payload: context).decoded()
        guard case .traceContext(let decoded) = event.kind else {
            Issue.record("not a trace context: \(event.kind)")
            return
        }
        #expect(decoded.origin == .serverRequest)
        #expect(decoded.traceID == TraceID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10))
        #expect(decoded.spanID == SpanID(value: 0x2a))
        #expect(decoded.parentSpanID == SpanID(value: 7))
        #expect(decoded.sampled)
        #expect(decoded.parentIsRemote)
    }

    @Test func refusesMalformedRecords() throws {
        var event = CaptureEvent(kind: .closed, timestamp: 0, pid: 0, tid: 0, fd: -1)
        #expect(throws: CaptureEvent.RecordError.tooShort(10)) {
            try [UInt8](repeating: 0, count: 10).withUnsafeBytes { try event.update(record: $0) }
        }
        var overlong = Record(kind: PERISCOPE_EVENT_DATA.rawValue, payload: [1, 2])
        overlong.set(\.captured_len, 3)
        #expect(throws: CaptureEvent.RecordError.payloadOutOfBounds(captured: 3, recordSize: overlong.bytes.count)) { try overlong.decoded() }
        var frames = Record(kind: PERISCOPE_EVENT_DATA.rawValue, payload: [1, 2])
        frames.set(\.direction, UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue))
        frames.set(\.frames_len, 3)
        #expect(throws: CaptureEvent.RecordError.framesOutOfBounds(frames: 3, captured: 2)) { try frames.decoded() }
        #expect(throws: CaptureEvent.RecordError.unknownKind(99)) { try Record(kind: 99).decoded() }
        #expect(throws: CaptureEvent.RecordError.malformedTraceContext) {
            try Record(kind: PERISCOPE_EVENT_TRACE_CONTEXT.rawValue, payload: [1, 2, 3]).decoded()
        }
    }

    /// A DATA record's own trace context: its last bytes, after the prefix, the tail and the
    /// frame walk's records, flagged.
    static func context(span: UInt8) -> [UInt8] {
        var context = [UInt8](repeating: 0, count: MemoryLayout<periscope_trace_context>.size)
        context[15] = 0x42
        context[23] = span
        context[31] = 0x05
        context[MemoryLayout<periscope_trace_context>.offset(of: \.flags)!] = 1
        context[MemoryLayout<periscope_trace_context>.offset(of: \.origin)!] = UInt8(PERISCOPE_CONTEXT_SERVER.rawValue)
        context[MemoryLayout<periscope_trace_context>.offset(of: \.parent_remote)!] = 1
        return context
    }

    @Test func aContextCarriedAtTheEndOfADataRecordIsItsOwnNotPayload() throws {
        let frame = [UInt8](repeating: 0xee, count: 8 + 3)
        var record = Record(kind: PERISCOPE_EVENT_DATA.rawValue, totalLength: UInt32(Self.request.count), payload: Self.request + frame + Self.context(span: 0x33))
        record.set(\.direction, UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue))
        record.set(\.frames_len, UInt16(frame.count))
        record.set(\.flags, UInt16(PERISCOPE_EVENT_FLAG_TRACE_CONTEXT.rawValue))
        var event = try record.decoded()
        #expect(event.kind == .data(.ingress) && event.payload == Self.request && !event.frameWalk.isEmpty)
        let context = try #require(event.kernelContext)
        #expect(context.origin == .serverRequest && context.spanID == SpanID(value: 0x33))
        #expect(context.traceID == TraceID(high: 0, low: 0x42) && context.parentSpanID == SpanID(value: 0x05))
        #expect(context.sampled && context.parentIsRemote)
        // The next record into the same event, without one, leaves none behind.
        var plain = Record(kind: PERISCOPE_EVENT_DATA.rawValue, totalLength: UInt32(Self.request.count), payload: Self.request)
        plain.set(\.direction, UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue))
        try plain.update(&event)
        #expect(event.payload == Self.request && event.kernelContext == nil)
    }

    @Test func aContextFlagWithoutRoomForTheContextIsMalformed() throws {
        for payload in [Array("GET /".utf8), [UInt8](repeating: 0, count: MemoryLayout<periscope_trace_context>.size)] {
            var record = Record(kind: PERISCOPE_EVENT_DATA.rawValue, payload: payload)
            record.set(\.direction, UInt8(PERISCOPE_DIRECTION_INGRESS.rawValue))
            record.set(\.flags, UInt16(PERISCOPE_EVENT_FLAG_TRACE_CONTEXT.rawValue))
            #expect(throws: CaptureEvent.RecordError.malformedTraceContext) { try record.decoded() }
        }
    }
}
