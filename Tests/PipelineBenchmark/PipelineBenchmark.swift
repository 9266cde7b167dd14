import PeriscopeAgent
import PeriscopeCore
#if canImport(Glibc)
import Glibc
#endif

/// The agent's user-space work per request without the kernel: the events of wrk → nginx
/// keep-alive requests with both ends traced and trace context in traffic (the client's
/// write carrying its injected context, the server's read carrying the context decided for
/// it, the server's write, the client's read: the kernel's four records) through the connection tracker, the policy's pipeline and the JSON
/// printer, as the capture thread runs them; or, instead of the printer, the OTLP encoding
/// of what the exporter sends (batches of 512 spans, no network).
///   periscope-pipeline-bench [requests] [connections] [tracker|pipeline|all|otlp]
/// Prints the capture thread's CPU time (user and system) per request.
@main
struct PipelineBenchmark {
    static func main() {
        let arguments = CommandLine.arguments
        let requests = arguments.count > 1 ? Int(arguments[1]) : 200_000
        let connections = arguments.count > 2 ? Int(arguments[2]) : 16
        // How far spans go: `tracker` (built only), `pipeline` (named and sampled), `all` (printed),
        // `otlp` (encoded for export).
        let stage = arguments.count > 3 ? arguments[3] : "all"
        guard let requests, requests > 0, let connectionCount = connections, connectionCount > 0, connectionCount < 20_000,
              ["tracker", "pipeline", "all", "otlp"].contains(stage), arguments.count <= 4
        else {
            let usage = "usage: periscope-pipeline-bench [requests > 0] [connections 1–19999] [tracker|pipeline|all|otlp]\n"
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
        for end in ends {
            tracker.handle(end.clientEvent(.opened(.client), at: now), into: &finished)
            tracker.handle(end.serverEvent(.opened(.server), at: now), into: &finished)
        }
        // As the agent's capture loop does: each span decided and handed on where it lies in the
        // list, borrowed (an argument read out of the list would copy it).
        func deliver(_ span: inout Span) {
            guard pipeline.judge(&span) == .kept else { return }
            if stage == "all" {
                printer.observe(span)
                printer.emit(span)
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
        // Events are built in batches outside the timed part; only their handling is timed.
        var cpu: UInt64 = 0
        var request = 0
        var batch: [CaptureEvent] = []
        while request < requests {
            batch.removeAll(keepingCapacity: true)
            for _ in 0..<min(4096, requests - request) {
                let end = ends[request % connectionCount]
                now += 2_000
                let trace = TraceID(high: 0x0123_4567_89ab_cdef, low: UInt64(request) &+ 1)
                batch += end.request(trace: trace, client: SpanID(value: UInt64(request) &* 2 &+ 1), server: SpanID(value: UInt64(request) &* 2 &+ 2), at: now)
                request += 1
            }
            let start = threadCPU()
            for index in batch.indices {
                // Handled where it lies, as the capture loop handles its record's event.
                tracker.handle(batch[index], into: &finished)
                if !finished.isEmpty {
                    if stage != "tracker" {
                        finished.withUnsafeMutableBufferPointer { finished in
                            for index in finished.indices { deliver(&finished[index]) }
                        }
                    }
                    finished.removeAll(keepingCapacity: true)
                }
                if index % 384 == 383 {
                    tracker.advance(now: now, into: &finished)
                    printer.flush()
                }
            }
            printer.flush()
            cpu += threadCPU() - start
        }
        print("requests \(requests) on \(connectionCount) connections, stage \(stage), spans printed or encoded \(spans) (\(pipeline.counters)), OTLP bytes \(exportedBytes)")
        print("CPU ns per request: \(cpu / UInt64(max(requests, 1)))")
    }

    static func threadCPU() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// One wrk connection to nginx: its two sockets.
struct Ends {
    let client: (pid: Int32, fd: Int32, socket: UInt64, local: SocketAddress)
    let server: (pid: Int32, fd: Int32, socket: UInt64, local: SocketAddress)
    static let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1:18700\r\n\r\n".utf8)
    static let response = Array(
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 01:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 17\r\nConnection: keep-alive\r\n\r\nhello from nginx\n".utf8
    )

    init(index: Int) {
        let port = UInt16(40000 + index)
        client = (1000, Int32(3 + index), UInt64(1000 + index), SocketAddress(ipv4: 127, 0, 0, 1, port: port))
        server = (2000, Int32(10 + index), UInt64(5000 + index), SocketAddress(ipv4: 127, 0, 0, 1, port: 18700))
    }

    func clientEvent(_ kind: CaptureEvent.Kind, at timestamp: UInt64, bytes: [UInt8] = []) -> CaptureEvent {
        CaptureEvent(
            kind: kind, timestamp: timestamp, pid: client.pid, tid: client.pid, fd: client.fd, socketID: client.socket,
            local: client.local, peer: server.local, totalLength: bytes.count, payload: bytes
        )
    }

    func serverEvent(_ kind: CaptureEvent.Kind, at timestamp: UInt64, bytes: [UInt8] = []) -> CaptureEvent {
        CaptureEvent(
            kind: kind, timestamp: timestamp, pid: server.pid, tid: server.pid, fd: server.fd, socketID: server.socket,
            local: server.local, peer: client.local, totalLength: bytes.count, payload: bytes
        )
    }

    func request(trace: TraceID, client clientSpan: SpanID, server serverSpan: SpanID, at now: UInt64) -> [CaptureEvent] {
        let injected = KernelTraceContext(origin: .injectedRequest, traceID: trace, spanID: clientSpan, parentSpanID: nil, sampled: true, parentIsRemote: false)
        let decided = KernelTraceContext(origin: .serverRequest, traceID: trace, spanID: serverSpan, parentSpanID: clientSpan, sampled: true, parentIsRemote: true)
        var write = clientEvent(.data(.egress), at: now, bytes: Self.request)
        write.kernelContext = injected
        let traceparent = Array("traceparent: 00-\(trace.hex)-\(clientSpan.hex)-01\r\n".utf8)
        let received = Array(Self.request[..<(Self.request.count - 2)]) + traceparent + [13, 10]
        var read = serverEvent(.data(.ingress), at: now + 10_000, bytes: Array(received))
        read.kernelContext = decided
        return [
            write,
            read,
            serverEvent(.data(.egress), at: now + 40_000, bytes: Self.response),
            clientEvent(.data(.ingress), at: now + 50_000, bytes: Self.response),
        ]
    }
}
