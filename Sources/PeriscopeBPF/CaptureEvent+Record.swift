import CPeriscopeBPF
import PeriscopeCore

extension CaptureEvent {
    /// Why a ring buffer record could not be decoded.
    public enum RecordError: Error, Equatable, Sendable {
        case tooShort(Int)
        case payloadOutOfBounds(captured: Int, recordSize: Int)
        case tailOutOfBounds(tail: Int, captured: Int)
        case framesOutOfBounds(frames: Int, captured: Int)
        case unknownKind(UInt32)
        case unknownDirection(UInt8)
        case unknownRole(UInt8)
        case malformedTraceContext
    }

    /// Decodes one ring buffer record laid out as `struct periscope_event`, of which only
    /// the header and `captured_len` payload bytes are present.
    public init(record: UnsafeRawBufferPointer) throws(RecordError) {
        self.init(kind: .closed, timestamp: 0, pid: 0, tid: 0, fd: -1)
        try update(record: record)
    }

    /// Decodes `record` into this event in place: every field is set afresh, and the
    /// payload's storage is reused when nothing else holds it, so a reader decoding record
    /// after record into one event allocates nothing per record.
    public mutating func update(record: UnsafeRawBufferPointer) throws(RecordError) {
        let headerSize = Int(PERISCOPE_EVENT_HEADER_SIZE)
        guard record.count >= headerSize, let base = record.baseAddress else {
            throw .tooShort(record.count)
        }
        let layout = RecordLayout.self
        func load<T>(_ offset: Int, as type: T.Type) -> T { base.loadUnaligned(fromByteOffset: offset, as: T.self) }
        var captured = Int(load(layout.capturedLength, as: UInt32.self))
        guard headerSize + captured <= record.count else {
            throw .payloadOutOfBounds(captured: captured, recordSize: record.count)
        }
        let flags = load(layout.flags, as: UInt16.self)
        // A context the kernel decided for this read or write ends the payload of its record.
        var carriedContext: KernelTraceContext?
        if flags & UInt16(PERISCOPE_EVENT_FLAG_TRACE_CONTEXT.rawValue) != 0, load(layout.kind, as: UInt32.self) == PERISCOPE_EVENT_DATA.rawValue {
            let contextBytes = Int(PERISCOPE_EVENT_CONTEXT_BYTES)
            guard captured >= contextBytes else { throw .malformedTraceContext }
            captured -= contextBytes
            let start = headerSize + captured
            carriedContext = try Self.traceContext(UnsafeRawBufferPointer(rebasing: record[start..<(start + contextBytes)]))
        }
        let payloadBytes = UnsafeRawBufferPointer(rebasing: record[headerSize..<(headerSize + captured)])
        let kind: Kind
        switch load(layout.kind, as: UInt32.self) {
        case PERISCOPE_EVENT_DATA.rawValue:
            switch UInt32(load(layout.direction, as: UInt8.self)) {
            case PERISCOPE_DIRECTION_INGRESS.rawValue: kind = .data(.ingress)
            case PERISCOPE_DIRECTION_EGRESS.rawValue: kind = .data(.egress)
            case let other: throw .unknownDirection(UInt8(other))
            }
        case PERISCOPE_EVENT_OPEN.rawValue:
            switch UInt32(load(layout.role, as: UInt8.self)) {
            case PERISCOPE_ROLE_SERVER.rawValue: kind = .opened(.server)
            case PERISCOPE_ROLE_CLIENT.rawValue: kind = .opened(.client)
            case let other: throw .unknownRole(UInt8(other))
            }
        case PERISCOPE_EVENT_CLOSE.rawValue: kind = .closed
        case PERISCOPE_EVENT_CLOSE_RANGE.rawValue: kind = .closedRange(last: Int32(clamping: load(layout.totalLength, as: UInt32.self)))
        case PERISCOPE_EVENT_EXEC.rawValue: kind = .processExec
        case PERISCOPE_EVENT_EXIT.rawValue: kind = .processExited
        case PERISCOPE_EVENT_TRACE_CONTEXT.rawValue: kind = .traceContext(try Self.traceContext(payloadBytes))
        case PERISCOPE_EVENT_FORK.rawValue: kind = .processForked(parent: load(layout.fd, as: Int32.self))
        case let other: throw .unknownKind(other)
        }
        var tail = 0
        var frames = 0
        if case .data = kind {
            frames = Int(load(layout.framesLength, as: UInt16.self))
            guard frames <= captured else { throw .framesOutOfBounds(frames: frames, captured: captured) }
            tail = Int(load(layout.tailLength, as: UInt16.self))
            guard tail <= captured - frames else { throw .tailOutOfBounds(tail: tail, captured: captured - frames) }
        }
        func address(_ offset: Int, port portOffset: Int) -> SocketAddress {
            SocketAddress(
                high: UInt64(bigEndian: load(offset, as: UInt64.self)),
                low: UInt64(bigEndian: load(offset + 8, as: UInt64.self)),
                port: load(portOffset, as: UInt16.self)
            )
        }
        self.kind = kind
        kernelContext = carriedContext
        timestamp = load(layout.timestamp, as: UInt64.self)
        pid = Int32(bitPattern: load(layout.pid, as: UInt32.self))
        tid = Int32(bitPattern: load(layout.tid, as: UInt32.self))
        // A fork's parent is in fd; close_range's last descriptor is in total_len; other
        // events' is the bytes moved.
        if case .processForked = kind { fd = -1 } else { fd = load(layout.fd, as: Int32.self) }
        switch kind {
        case .processExec, .closedRange: socketID = 0
        default: socketID = load(layout.socketID, as: UInt64.self)
        }
        local = address(layout.localAddress, port: layout.localPort)
        peer = address(layout.peerAddress, port: layout.peerPort)
        if case .closedRange = kind { totalLength = 0 } else { totalLength = Int(load(layout.totalLength, as: UInt32.self)) }
        // One replacement in place: the storage is kept, the bytes copied at once.
        payload.replaceSubrange(payload.indices, with: UnsafeRawBufferPointer(rebasing: payloadBytes[..<(captured - frames)]))
        if frames > 0 {
            // The records follow the prefix and the tail (periscope_frame_walk.h).
            frameWalk = FrameWalk(records: [UInt8](payloadBytes.suffix(frames))[...])
        } else if !frameWalk.isEmpty {
            frameWalk = FrameWalk()
        }
        tailLength = tail
        if case .processExec = kind { descriptorsOpenAfterExec = load(layout.socketID, as: UInt64.self) } else { descriptorsOpenAfterExec = nil }
        if case .closedRange = kind { descriptorsStillHeld = load(layout.socketID, as: UInt64.self) } else { descriptorsStillHeld = 0 }
        resumedAfterShedding = flags & UInt16(PERISCOPE_EVENT_FLAG_RESUMED.rawValue) != 0
        socketStillOpen = flags & UInt16(PERISCOPE_EVENT_FLAG_STILL_OPEN.rawValue) != 0
        chunkWalk = nil
        if case .data = kind, UInt32(load(layout.chunkFlags, as: UInt16.self)) & PERISCOPE_CHUNK_WALKED.rawValue != 0 {
            chunkWalk = ChunkWalk(
                anchor: Int(load(layout.chunkAnchor, as: UInt32.self)),
                dataBytes: Int(load(layout.chunkData, as: UInt32.self)),
                end: Int(load(layout.chunkEnd, as: UInt32.self)),
                endsAtHeader: UInt32(load(layout.chunkFlags, as: UInt16.self)) & PERISCOPE_CHUNK_AT_HEADER.rawValue != 0
            )
        }
        tls = if flags & UInt16(PERISCOPE_EVENT_FLAG_TLS_PLAINTEXT.rawValue) != 0 {
            .plaintext
        } else if flags & UInt16(PERISCOPE_EVENT_FLAG_TLS_CIPHERTEXT.rawValue) != 0 {
            .records
        } else {
            nil
        }
    }

    /// A `struct periscope_trace_context` payload.
    static func traceContext(_ payload: UnsafeRawBufferPointer) throws(RecordError) -> KernelTraceContext {
        guard payload.count >= MemoryLayout<periscope_trace_context>.size else { throw .malformedTraceContext }
        /// The big-endian 64-bit word at `path` plus `offset` bytes: ids read without a list.
        func word<T>(_ path: KeyPath<periscope_trace_context, T>, at offset: Int = 0) -> UInt64 {
            let start = MemoryLayout<periscope_trace_context>.offset(of: path)! + offset
            return UInt64(bigEndian: payload.loadUnaligned(fromByteOffset: start, as: UInt64.self))
        }
        func byte(_ path: KeyPath<periscope_trace_context, UInt8>) -> UInt8 {
            payload[MemoryLayout<periscope_trace_context>.offset(of: path)!]
        }
        let origin: KernelTraceContext.Origin
        switch UInt32(byte(\.origin)) {
        case PERISCOPE_CONTEXT_SERVER.rawValue: origin = .serverRequest
        case PERISCOPE_CONTEXT_INJECTED.rawValue: origin = .injectedRequest
        case PERISCOPE_CONTEXT_OPTION.rawValue: origin = .optionWritten
        case PERISCOPE_CONTEXT_SERVER_OPTION.rawValue: origin = .optionRead
        default: throw .malformedTraceContext
        }
        let trace = TraceID(high: word(\.trace_id), low: word(\.trace_id, at: 8))
        let span = word(\.span_id)
        let parent = word(\.parent_id)
        guard trace.high != 0 || trace.low != 0, span != 0 else { throw .malformedTraceContext }
        return KernelTraceContext(
            origin: origin, traceID: trace, spanID: SpanID(value: span),
            parentSpanID: parent != 0 ? SpanID(value: parent) : nil,
            sampled: byte(\.flags) & 1 != 0, parentIsRemote: byte(\.parent_remote) != 0
        )
    }
}

/// Byte offsets of the fields of `struct periscope_event`, taken from the C layout: each folds
/// to a constant where it is read, without a shared value to initialize first.
private enum RecordLayout {
    static var timestamp: Int { offset(\.timestamp_ns) }
    static var socketID: Int { offset(\.socket_id) }
    static var kind: Int { offset(\.kind) }
    static var pid: Int { offset(\.pid) }
    static var tid: Int { offset(\.tid) }
    static var fd: Int { offset(\.fd) }
    static var totalLength: Int { offset(\.total_len) }
    static var capturedLength: Int { offset(\.captured_len) }
    static var direction: Int { offset(\.direction) }
    static var role: Int { offset(\.role) }
    static var flags: Int { offset(\.flags) }
    static var tailLength: Int { offset(\.tail_len) }
    static var localAddress: Int { tuple(\.local_addr) }
    static var peerAddress: Int { tuple(\.peer_addr) }
    static var localPort: Int { tuple(\.local_port) }
    static var peerPort: Int { tuple(\.peer_port) }
    static var chunkAnchor: Int { offset(\.chunk_anchor) }
    static var chunkData: Int { offset(\.chunk_data) }
    static var chunkEnd: Int { offset(\.chunk_end) }
    static var chunkFlags: Int { offset(\.chunk_flags) }
    static var framesLength: Int { offset(\.frames_len) }

    @inline(__always)
    private static func offset<T>(_ path: KeyPath<periscope_event, T>) -> Int {
        MemoryLayout<periscope_event>.offset(of: path)!
    }

    @inline(__always)
    private static func tuple<T>(_ path: KeyPath<periscope_tuple, T>) -> Int {
        offset(\.tuple) + MemoryLayout<periscope_tuple>.offset(of: path)!
    }
}
