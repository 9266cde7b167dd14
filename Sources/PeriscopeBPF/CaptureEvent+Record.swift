import CPeriscopeBPF
import PeriscopeCore

extension CaptureEvent {
    /// Why a ring buffer record could not be decoded.
    public enum RecordError: Error, Equatable, Sendable {
        case tooShort(Int)
        case payloadOutOfBounds(captured: Int, recordSize: Int)
        case tailOutOfBounds(tail: Int, captured: Int)
        case unknownKind(UInt32)
        case unknownDirection(UInt8)
        case unknownRole(UInt8)
        case malformedTraceContext
    }

    /// Decodes one ring buffer record laid out as `struct periscope_event`, of which only
    /// the header and `captured_len` payload bytes are present.
    public init(record: UnsafeRawBufferPointer) throws(RecordError) {
        let headerSize = Int(PERISCOPE_EVENT_HEADER_SIZE)
        guard record.count >= headerSize, let base = record.baseAddress else {
            throw .tooShort(record.count)
        }
        func field<T>(_ path: KeyPath<periscope_event, T>, _: T.Type) -> T {
            base.loadUnaligned(fromByteOffset: MemoryLayout<periscope_event>.offset(of: path)!, as: T.self)
        }
        let captured = Int(field(\.captured_len, UInt32.self))
        guard headerSize + captured <= record.count else {
            throw .payloadOutOfBounds(captured: captured, recordSize: record.count)
        }
        let kind: Kind
        switch field(\.kind, UInt32.self) {
        case PERISCOPE_EVENT_DATA.rawValue:
            switch UInt32(field(\.direction, UInt8.self)) {
            case PERISCOPE_DIRECTION_INGRESS.rawValue: kind = .data(.ingress)
            case PERISCOPE_DIRECTION_EGRESS.rawValue: kind = .data(.egress)
            case let other: throw .unknownDirection(UInt8(other))
            }
        case PERISCOPE_EVENT_OPEN.rawValue:
            switch UInt32(field(\.role, UInt8.self)) {
            case PERISCOPE_ROLE_SERVER.rawValue: kind = .opened(.server)
            case PERISCOPE_ROLE_CLIENT.rawValue: kind = .opened(.client)
            case let other: throw .unknownRole(UInt8(other))
            }
        case PERISCOPE_EVENT_CLOSE.rawValue: kind = .closed
        case PERISCOPE_EVENT_CLOSE_RANGE.rawValue: kind = .closedRange(last: Int32(clamping: field(\.total_len, UInt32.self)))
        case PERISCOPE_EVENT_EXEC.rawValue: kind = .processExec
        case PERISCOPE_EVENT_EXIT.rawValue: kind = .processExited
        case PERISCOPE_EVENT_TRACE_CONTEXT.rawValue:
            kind = .traceContext(try Self.traceContext(UnsafeRawBufferPointer(rebasing: record[headerSize..<(headerSize + captured)])))
        case PERISCOPE_EVENT_FORK.rawValue: kind = .processForked(parent: field(\.fd, Int32.self))
        case let other: throw .unknownKind(other)
        }
        let tupleOffset = MemoryLayout<periscope_event>.offset(of: \.tuple)!
        func address(_ path: KeyPath<periscope_tuple, (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                                        UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)>,
                     port: KeyPath<periscope_tuple, UInt16>) -> SocketAddress {
            let offset = tupleOffset + MemoryLayout<periscope_tuple>.offset(of: path)!
            let portOffset = tupleOffset + MemoryLayout<periscope_tuple>.offset(of: port)!
            return SocketAddress(
                high: UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                low: UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
                port: base.loadUnaligned(fromByteOffset: portOffset, as: UInt16.self)
            )
        }
        // close_range's last descriptor is in total_len; other events' is the bytes moved.
        let totalLength = if case .closedRange = kind { 0 } else { Int(field(\.total_len, UInt32.self)) }
        self.init(
            kind: kind,
            timestamp: field(\.timestamp_ns, UInt64.self),
            pid: Int32(bitPattern: field(\.pid, UInt32.self)),
            tid: Int32(bitPattern: field(\.tid, UInt32.self)),
            fd: field(\.fd, Int32.self),
            socketID: kind == .processExec ? 0 : field(\.socket_id, UInt64.self),
            local: address(\.local_addr, port: \.local_port),
            peer: address(\.peer_addr, port: \.peer_port),
            totalLength: totalLength,
            payload: [UInt8](UnsafeRawBufferPointer(rebasing: record[headerSize..<(headerSize + captured)]))
        )
        resumedAfterShedding = field(\.flags, UInt16.self) & UInt16(PERISCOPE_EVENT_FLAG_RESUMED.rawValue) != 0
        if case .data = kind {
            let tail = Int(field(\.tail_len, UInt16.self))
            guard tail <= captured else { throw .tailOutOfBounds(tail: tail, captured: captured) }
            tailLength = tail
        }
        if kind == .processExec { descriptorsOpenAfterExec = field(\.socket_id, UInt64.self) }
        if case .processForked = kind { fd = -1 }
        socketStillOpen = field(\.flags, UInt16.self) & UInt16(PERISCOPE_EVENT_FLAG_STILL_OPEN.rawValue) != 0
    }

    /// A `struct periscope_trace_context` payload.
    static func traceContext(_ payload: UnsafeRawBufferPointer) throws(RecordError) -> KernelTraceContext {
        guard payload.count >= MemoryLayout<periscope_trace_context>.size else { throw .malformedTraceContext }
        func bytes<T>(_ path: KeyPath<periscope_trace_context, T>, count: Int) -> [UInt8] {
            let offset = MemoryLayout<periscope_trace_context>.offset(of: path)!
            return [UInt8](payload[offset..<(offset + count)])
        }
        func byte(_ path: KeyPath<periscope_trace_context, UInt8>) -> UInt8 {
            payload[MemoryLayout<periscope_trace_context>.offset(of: path)!]
        }
        let origin: KernelTraceContext.Origin
        switch UInt32(byte(\.origin)) {
        case PERISCOPE_CONTEXT_SERVER.rawValue: origin = .serverRequest
        case PERISCOPE_CONTEXT_INJECTED.rawValue: origin = .injectedRequest
        default: throw .malformedTraceContext
        }
        let trace = bytes(\.trace_id, count: 16)
        let span = bytes(\.span_id, count: 8)
        let parent = bytes(\.parent_id, count: 8)
        guard trace.contains(where: { $0 != 0 }), span.contains(where: { $0 != 0 }) else { throw .malformedTraceContext }
        return KernelTraceContext(
            origin: origin, traceID: TraceID(bytes: trace), spanID: SpanID(bytes: span),
            parentSpanID: parent.contains(where: { $0 != 0 }) ? SpanID(bytes: parent) : nil,
            sampled: byte(\.flags) & 1 != 0, parentIsRemote: byte(\.parent_remote) != 0
        )
    }
}
