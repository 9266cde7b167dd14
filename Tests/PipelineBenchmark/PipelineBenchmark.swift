import CPeriscopeBPF
import Logging
import PeriscopeAgent
import PeriscopeBPF
import PeriscopeCore
#if canImport(Glibc)
import Glibc
#endif

/// The agent's user-space work per request without the kernel: the ring-buffer records of
/// wrk → nginx keep-alive requests with both ends traced and trace context in traffic (the
/// client's write carrying its injected context, the server's read carrying the context
/// decided for it, the server's write, the client's read: the kernel's four records), each
/// decoded into one reused event as the capture loop decodes it (`CaptureEvent.update(record:)`),
/// through the connection tracker, the policy's pipeline and the JSON printer, as the capture
/// thread runs them; or, instead of the printer, the OTLP encoding of what the exporter sends
/// (batches of 512 spans, no network). The records are made once per connection; each request
/// only sets their times and ids, so nearly all that is counted is the agent's.
///   periscope-pipeline-bench [requests] [connections] [tracker|pipeline|all|otlp]
/// Prints the capture thread's CPU time (user and system) per request.
@main
struct PipelineBenchmark {
    static func main() {
        run()
    }

    /// Not isolated to the main actor, as `main` is: closures made there would have their
    /// isolation checked at run time at every call, counted as if the agent's.
    static func run() {
        let arguments = CommandLine.arguments
        let requests = arguments.count > 1 ? Int(arguments[1]) : 200_000
        let connections = arguments.count > 2 ? Int(arguments[2]) : 16
        // How far spans go: `tracker` (built only), `pipeline` (named and sampled), `all` (printed),
        // `otlp` (encoded for export), `sink` (through the production telemetry sink: span
        // metrics recorded and one OTLP export queued, as the agent hands spans on, and each
        // batch's export request made as the export thread makes it, without sending it).
        let stage = arguments.count > 3 ? arguments[3] : "all"
        guard let requests, requests > 0, let connectionCount = connections, connectionCount > 0, connectionCount < 20_000,
              ["tracker", "pipeline", "all", "otlp", "sink"].contains(stage), arguments.count <= 4
        else {
            let usage = "usage: periscope-pipeline-bench [requests > 0] [connections 1–19999] [tracker|pipeline|all|otlp|sink]\n"
            _ = usage.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        let policy = try! Policy.parse(yaml: "ports: [18700]")
        var tracker = ConnectionTracker(configuration: .init(policy: policy), clock: ClockMapping(offsetNanos: 1_700_000_000_000_000_000), generator: FastRandom())
        var pipeline = SpanPipeline(policy: policy)
        let devNull = open("/dev/null", O_WRONLY)
        let printer = SpanPrinter(format: .json, fd: devNull)
        let ends = (0..<connectionCount).map { Ends(index: $0) }
        var now: UInt64 = 1_000_000_000
        var finished: [Span] = []
        var spans = 0
        let resource = TelemetryResource.agent(pid: 1, hostName: "node")
        var batchToExport: [Span] = []
        var exportedBytes = 0
        var encoder = ProtobufWriter(reservingCapacity: 64 * 1024)
        let own = ExportConfiguration.OTLP(tracesEndpoint: "http://127.0.0.1:9/v1/traces", metricsEndpoint: "http://127.0.0.1:9/v1/metrics", maxQueueSize: 2 * requests + 1024)
        let router = ExportRouter(configuration: ExportConfiguration(otlp: own), policyExportsGetAgentHealth: false, resources: ProcessResources(), startTimeUnixNano: 0, logger: Logger(label: "bench")) { _, _ in [] }
        router.apply(PolicySet(policy))
        let telemetry = TelemetrySink(recorder: SpanMetricsRecorder(startTimeUnixNano: 0), router: router)
        // The export thread's work: full batches (every one at the end) taken and encoded.
        var exportRequest = ProtobufWriter(reservingCapacity: 64 * 1024)
        func export(all: Bool) {
            for exporter in router.exporters {
                while all || exporter.currentStatistics.queueLength >= own.maxExportBatchSize {
                    let count = exporter.takeRequest(into: &exportRequest)
                    if count == 0 { break }
                    exportedBytes += exportRequest.count
                }
            }
        }
        // The capture loop's one event, each record decoded into it.
        var event = CaptureEvent(kind: .closed, timestamp: 0, pid: 0, tid: 0, fd: -1)
        for end in ends {
            for record in [end.clientOpen(at: now), end.serverOpen(at: now)] {
                record.withUnsafeBytes { try! event.update(record: $0) }
                tracker.handle(inPlace: &event, into: &finished)
            }
        }
        // As the agent's capture loop does: each span decided and handed on where it lies in the
        // list, borrowed (an argument read out of the list would copy it).
        func deliver(_ span: inout Span) {
            guard pipeline.judge(&span) == .kept else { return }
            if stage == "all" {
                printer.observe(span)
                printer.emit(span)
                spans += 1
            } else if stage == "sink" {
                telemetry.observe(span)
                telemetry.emit(span)
                spans += 1
            } else if stage == "otlp" {
                batchToExport.append(span)
                spans += 1
                if batchToExport.count == 512 {
                    OTLPTraceEncoder.encode([.init(resource: resource, spans: batchToExport)], into: &encoder)
                    exportedBytes += encoder.count
                    batchToExport.removeAll(keepingCapacity: true)
                }
            }
        }
        var cpu: UInt64 = 0
        var request = 0
        let start = threadCPU()
        while request < requests {
            let connection = request % connectionCount
            now += 2_000
            let trace = TraceID(high: 0x0123_4567_89ab_cdef, low: UInt64(request) &+ 1)
            let end = ends[connection]
            end.prepare(trace: trace, client: UInt64(request) &* 2 &+ 1, server: UInt64(request) &* 2 &+ 2, at: now)
            for index in 0..<4 {
                // Decoded from where it lies and handled, as the capture loop handles its record's event.
                try! event.update(record: UnsafeRawBufferPointer(end.records[index]))
                tracker.handle(inPlace: &event, into: &finished)
                if !finished.isEmpty {
                    if stage != "tracker" {
                        finished.withUnsafeMutableBufferPointer { finished in
                            for index in finished.indices { deliver(&finished[index]) }
                        }
                    }
                    finished.removeAll(keepingCapacity: true)
                }
            }
            request += 1
            if request % 96 == 0 {
                tracker.advance(now: now, into: &finished)
                printer.flush()
                telemetry.flush()
                if stage == "sink" { export(all: false) }
            }
        }
        printer.flush()
        telemetry.flush()
        if stage == "sink" { export(all: true) }
        cpu += threadCPU() - start
        print("requests \(requests) on \(connectionCount) connections, stage \(stage), spans printed or encoded \(spans) (\(pipeline.counters)), OTLP bytes \(exportedBytes)")
        print("CPU ns per request: \(cpu / UInt64(max(requests, 1)))")
    }

    static func threadCPU() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// One wrk connection to nginx: its two sockets and the four records of a request on it,
/// laid out as the kernel writes them (`struct periscope_event`, payload, trace context).
struct Ends {
    let client: (pid: UInt32, fd: Int32, socket: UInt64, port: UInt16)
    let server: (pid: UInt32, fd: Int32, socket: UInt64, port: UInt16)
    static let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1:18700\r\n\r\n".utf8)
    static let response = Array(
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 01:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 17\r\nConnection: keep-alive\r\n\r\nhello from nginx\n".utf8
    )
    /// The client's write, the server's read, the server's write, the client's read: each in
    /// memory of its own, as records lie in the ring buffer, for as long as the benchmark runs.
    let records: [UnsafeMutableRawBufferPointer]

    static let headerSize = Int(PERISCOPE_EVENT_HEADER_SIZE)
    static let contextSize = Int(PERISCOPE_EVENT_CONTEXT_BYTES)

    init(index: Int) {
        client = (1000, Int32(3 + index), UInt64(1000 + index), UInt16(40000 + index))
        server = (2000, Int32(10 + index), UInt64(5000 + index), 18700)
        // The traceparent the client's write carried, as the server reads it (its ids are the
        // first request's: the kernel's context, not the header, decides the span's).
        let traceparent = Array("traceparent: 00-0123456789abcdef0000000000000001-0000000000000001-01\r\n".utf8)
        let received = Array(Self.request[..<(Self.request.count - 2)]) + traceparent + [13, 10]
        records = [
            Self.record(PERISCOPE_EVENT_DATA, direction: PERISCOPE_DIRECTION_EGRESS, of: client, peer: server, payload: Self.request, context: PERISCOPE_CONTEXT_INJECTED),
            Self.record(PERISCOPE_EVENT_DATA, direction: PERISCOPE_DIRECTION_INGRESS, of: server, peer: client, payload: received, context: PERISCOPE_CONTEXT_SERVER),
            Self.record(PERISCOPE_EVENT_DATA, direction: PERISCOPE_DIRECTION_EGRESS, of: server, peer: client, payload: Self.response),
            Self.record(PERISCOPE_EVENT_DATA, direction: PERISCOPE_DIRECTION_INGRESS, of: client, peer: server, payload: Self.response),
        ].map { bytes in
            let record = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
            record.copyBytes(from: bytes)
            return record
        }
    }

    func clientOpen(at timestamp: UInt64) -> [UInt8] {
        var record = Self.record(PERISCOPE_EVENT_OPEN, role: PERISCOPE_ROLE_CLIENT, of: client, peer: server, payload: [])
        Self.store(timestamp, at: MemoryLayout<periscope_event>.offset(of: \.timestamp_ns)!, in: &record)
        return record
    }

    func serverOpen(at timestamp: UInt64) -> [UInt8] {
        var record = Self.record(PERISCOPE_EVENT_OPEN, role: PERISCOPE_ROLE_SERVER, of: server, peer: client, payload: [])
        Self.store(timestamp, at: MemoryLayout<periscope_event>.offset(of: \.timestamp_ns)!, in: &record)
        return record
    }

    /// Sets the records' times and the ids of the contexts the kernel decided: the client's
    /// span injected into its write, the server's span (its child) decided for its read.
    func prepare(trace: TraceID, client clientSpan: UInt64, server serverSpan: UInt64, at now: UInt64) {
        let timestamp = MemoryLayout<periscope_event>.offset(of: \.timestamp_ns)!
        records[0].storeBytes(of: now, toByteOffset: timestamp, as: UInt64.self)
        records[1].storeBytes(of: now + 10_000, toByteOffset: timestamp, as: UInt64.self)
        records[2].storeBytes(of: now + 40_000, toByteOffset: timestamp, as: UInt64.self)
        records[3].storeBytes(of: now + 50_000, toByteOffset: timestamp, as: UInt64.self)
        Self.setContext(trace: trace, span: clientSpan, parent: 0, in: records[0])
        Self.setContext(trace: trace, span: serverSpan, parent: clientSpan, in: records[1])
    }

    private static func setContext(trace: TraceID, span: UInt64, parent: UInt64, in record: UnsafeMutableRawBufferPointer) {
        let context = record.count - contextSize
        func offset<T>(_ path: KeyPath<periscope_trace_context, T>) -> Int { context + MemoryLayout<periscope_trace_context>.offset(of: path)! }
        record.storeBytes(of: trace.high.bigEndian, toByteOffset: offset(\.trace_id), as: UInt64.self)
        record.storeBytes(of: trace.low.bigEndian, toByteOffset: offset(\.trace_id) + 8, as: UInt64.self)
        record.storeBytes(of: span.bigEndian, toByteOffset: offset(\.span_id), as: UInt64.self)
        record.storeBytes(of: parent.bigEndian, toByteOffset: offset(\.parent_id), as: UInt64.self)
    }

    private static func store<T>(_ value: T, at offset: Int, in record: inout [UInt8]) {
        record.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
    }

    /// A record of `kind` on the socket of `end`, whose other end is `peer`'s (loopback).
    private static func record(
        _ kind: periscope_event_kind, direction: periscope_direction = periscope_direction(0), role: periscope_role = periscope_role(0),
        of end: (pid: UInt32, fd: Int32, socket: UInt64, port: UInt16), peer: (pid: UInt32, fd: Int32, socket: UInt64, port: UInt16),
        payload: [UInt8], context origin: periscope_context_origin? = nil
    ) -> [UInt8] {
        var header = periscope_event()
        header.kind = kind.rawValue
        header.pid = end.pid
        header.tid = end.pid
        header.fd = end.fd
        header.socket_id = end.socket
        header.direction = UInt8(direction.rawValue)
        header.role = UInt8(role.rawValue)
        header.total_len = UInt32(payload.count)
        header.captured_len = UInt32(payload.count + (origin == nil ? 0 : contextSize))
        if origin != nil { header.flags = UInt16(PERISCOPE_EVENT_FLAG_TRACE_CONTEXT.rawValue) }
        let loopback: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]
        withUnsafeMutableBytes(of: &header.tuple.local_addr) { $0.copyBytes(from: loopback) }
        withUnsafeMutableBytes(of: &header.tuple.peer_addr) { $0.copyBytes(from: loopback) }
        header.tuple.local_port = end.port
        header.tuple.peer_port = peer.port
        var record = withUnsafeBytes(of: &header) { Array($0[..<headerSize]) } + payload
        if let origin {
            var context = periscope_trace_context()
            context.origin = UInt8(origin.rawValue)
            context.flags = 1
            context.parent_remote = origin == PERISCOPE_CONTEXT_SERVER ? 1 : 0
            record += withUnsafeBytes(of: &context) { Array($0) }
        }
        return record
    }
}
