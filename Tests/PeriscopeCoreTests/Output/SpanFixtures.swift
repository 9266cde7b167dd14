import PeriscopeCore

/// Spans with known contents for formatter and attribute tests.
enum SpanFixtures {
    static let server = Span(
        traceID: TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!,
        spanID: SpanID(hex: "00f067aa0ba902b7")!,
        parentSpanID: SpanID(hex: "b7ad6b7169203331")!,
        kind: .server, name: "GET /users/{id}",
        startTimeUnixNano: 1_700_000_000_123_000_000, endTimeUnixNano: 1_700_000_000_135_345_678,
        pid: 812, tid: 815, executable: "/usr/sbin/nginx",
        local: SocketAddress(ipv4: 10, 0, 0, 1, port: 8080), peer: SocketAddress(ipv4: 10, 0, 0, 2, port: 51234),
        http: HTTPDetails(
            method: "GET", path: "/users/42", target: "/users/42?x=1", route: "/users/{id}", statusCode: 200,
            protocolVersion: "1.1", requestBodySize: 0, responseBodySize: 5, host: "api", userAgent: "curl/8.5.0"
        )
    )

    static let tcp = Span(
        traceID: TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!,
        spanID: SpanID(hex: "b7ad6b7169203331")!,
        kind: .client, name: "tcp",
        startTimeUnixNano: 1_700_000_000_000_000_000, endTimeUnixNano: 1_700_000_002_500_000_000,
        pid: 42, tid: 43,
        local: SocketAddress(address: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], port: 40000),
        peer: SocketAddress(address: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5], port: 5432),
        tcp: TCPDetails(bytesSent: 1234, bytesReceived: 56789)
    )

    /// A server span whose request carried hostile bytes.
    static var hostile: Span {
        var span = server
        span.parentSpanID = nil
        span.status = .error
        span.statusMessage = "connection closed before the response completed"
        // What the decoder makes of `GET /a"b\c<ESC>[31m<0xff><0xc3> HTTP/1.1`.
        let target = String(decoding: Array("/a\"b\\c\u{1b}[31m".utf8) + [0xff, 0xc3, 0xc2, 0x9b] + Array("\u{2028}".utf8), as: UTF8.self)
        span.http?.path = target
        span.http?.method = "PURGE"
        span.http?.route = nil
        span.http?.userAgent = "tab\there\nnewline\u{0}nul"
        span.executable = nil
        return span
    }

    /// Spans of many connections, one after another, varied in what a connection's attributes
    /// are made of (ends, kind, process, thread, executable, TCP or HTTP, protocol attributes),
    /// with the same connections coming back after others: for outputs that copy the
    /// attributes a span shares with the earlier spans of its connection.
    static var manyConnections: [Span] {
        var spans: [Span] = []
        let kinds: [Span.Kind] = [.server, .client, .internal]
        for round in 0..<3 {
            for base in [server, tcp, hostile] {
                for kind in kinds {
                    for variant in 0..<5 {
                        var span = base
                        span.kind = kind
                        switch variant {
                        case 1: span.tid += 1
                        case 2: span.executable = span.executable == nil ? "/usr/bin/python3" : nil
                        case 3: span.peer.port &+= UInt16(round)
                        case 4: span.protocolAttributes = [Attribute("rpc.system", .string("grpc"))]
                        default: break
                        }
                        spans.append(span)
                    }
                }
            }
            for number in 0..<100 {
                var span = server
                span.local = SocketAddress(ipv4: 10, 0, 1, UInt8(number), port: 8080)
                spans.append(span)
            }
        }
        return spans
    }
}
