extension Span {
    /// Methods OpenTelemetry lets `http.request.method` carry; others become `_OTHER`.
    static let semanticConventionMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
    ]

    /// The span's attributes under OpenTelemetry semantic-convention names, in a fixed
    /// order. The one list every output (text, JSON, OTLP) uses.
    public var attributes: [(key: String, value: AttributeValue)] {
        var result: [(key: String, value: AttributeValue)] = []
        func add(_ key: String, _ value: AttributeValue?) {
            if let value { result.append((key, value)) }
        }
        if let http {
            let known = Self.semanticConventionMethods.contains(http.method)
            add("http.request.method", .string(known ? http.method : "_OTHER"))
            if !known { add("http.request.method_original", .string(http.method)) }
            add("url.scheme", .string("http"))
            add("url.path", .string(http.path))
            add("http.route", http.route.map(AttributeValue.string))
            add("http.response.status_code", http.statusCode.map(AttributeValue.int))
            add("network.protocol.name", .string("http"))
            add("network.protocol.version", .string(http.protocolVersion))
            add("http.request.body.size", .int(http.requestBodySize))
            add("http.response.body.size", .int(http.responseBodySize))
            add("user_agent.original", http.userAgent.map(AttributeValue.string))
        }
        result.append(contentsOf: protocolAttributes.lazy.map { ($0.key, $0.value) })
        let (server, client): (SocketAddress?, SocketAddress?) = switch kind {
        case .server: (local, peer)
        case .client: (peer, local)
        case .internal: (nil, nil)
        }
        if let server {
            add("server.address", .string(server.host))
            add("server.port", .int(Int(server.port)))
        }
        if let client {
            add("client.address", .string(client.host))
            add("client.port", .int(Int(client.port)))
        }
        add("network.peer.address", .string(peer.host))
        add("network.peer.port", .int(Int(peer.port)))
        add("network.local.address", .string(local.host))
        add("network.local.port", .int(Int(local.port)))
        add("network.transport", .string("tcp"))
        add("network.type", .string(peer.isIPv4 ? "ipv4" : "ipv6"))
        add("process.pid", .int(Int(pid)))
        add("process.executable.path", executable.map(AttributeValue.string))
        add("thread.id", .int(Int(tid)))
        if let tcp {
            add("periscope.tcp.bytes_sent", .int(tcp.bytesSent))
            add("periscope.tcp.bytes_received", .int(tcp.bytesReceived))
        }
        return result
    }
}
