/// Receives a span's attributes one at a time, in `Span.attributes` order. Outputs that
/// write bytes take them this way: constant keys as static bytes, addresses and numbers
/// as they are, no list and no string built per attribute.
public protocol SpanAttributeVisitor {
    mutating func visit(_ key: StaticString, _ value: String)
    mutating func visit(_ key: StaticString, _ value: Int)
    /// An address attribute: the host of `address` (`10.0.0.1`, `2001:db8::5`).
    mutating func visit(_ key: StaticString, host address: SocketAddress)
    /// A protocol attribute (`rpc.*`, `db.*`, …), whose key is not a constant.
    mutating func visit(_ attribute: Attribute)
    /// A text attribute as the bytes it was read as, valid for the call only: UTF-8 as the
    /// traffic carried it, not checked. By default made a string (what is not UTF-8
    /// replaced); a visitor that writes bytes as they are must do the same with them.
    mutating func visit(_ key: StaticString, utf8 value: UnsafeBufferPointer<UInt8>)
    /// A text attribute whose value is a constant (`tcp`, `ipv4`, `http`), plain ASCII with
    /// nothing to escape. By default made a string.
    mutating func visit(_ key: StaticString, constant value: StaticString)
}

extension SpanAttributeVisitor {
    public mutating func visit(_ key: StaticString, utf8 value: UnsafeBufferPointer<UInt8>) {
        visit(key, String(decoding: value, as: UTF8.self))
    }

    public mutating func visit(_ key: StaticString, constant value: StaticString) {
        visit(key, value.description)
    }
}

extension Span {
    /// Methods OpenTelemetry lets `http.request.method` carry; others become `_OTHER`.
    static let semanticConventionMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
    ]

    /// Whether `method` is one OpenTelemetry names; the common ones without hashing.
    static func isSemanticConventionMethod(_ method: String) -> Bool {
        switch method {
        case "GET", "POST", "PUT", "HEAD", "DELETE": true
        default: semanticConventionMethods.contains(method)
        }
    }

    /// Whether `method` is GET, POST, PUT, HEAD or DELETE, read as bytes: compared as one or
    /// two little-endian words, not byte by byte.
    static func isCommonMethod(_ method: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = method.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        switch method.count {
        case 3:
            let word = UInt32(base[0]) | UInt32(base[1]) << 8 | UInt32(base[2]) << 16
            return word == 0x54_4547 || word == 0x54_5550  // GET, PUT
        case 4:
            let word = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
            return word == 0x5453_4F50 || word == 0x4441_4548  // POST, HEAD
        case 6:
            let word = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
            let rest = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
            return word == 0x454C_4544 && rest == 0x4554  // DELETE
        default:
            return false
        }
    }

    /// The span's attributes under OpenTelemetry semantic-convention names, in a fixed
    /// order. The one list every output (text, JSON, OTLP) uses.
    public var attributes: [(key: String, value: AttributeValue)] {
        var list = AttributeList()
        visitAttributes(&list)
        return list.result
    }

    /// Hands each of `attributes` to `visitor`, in order, without building the list.
    public func visitAttributes<Visitor: SpanAttributeVisitor>(_ visitor: inout Visitor) {
        visitRequestAttributes(&visitor)
        visitConnectionAttributes(&visitor)
        visitTCPAttributes(&visitor)
    }

    /// The attributes of the request: HTTP's, then the protocol's.
    func visitRequestAttributes<Visitor: SpanAttributeVisitor>(_ visitor: inout Visitor) {
        // The box's own visitor reads the fields and the text where they lie.
        http?.storage.visitAttributes(&visitor)
        for attribute in protocolAttributes { visitor.visit(attribute) }
    }

    /// The attributes every span of a connection shares (the same for all of them while its
    /// ends, process and thread stay the same): addresses, ports, process and thread. Never
    /// none: there is always the peer.
    func visitConnectionAttributes<Visitor: SpanAttributeVisitor>(_ visitor: inout Visitor) {
        let (server, client): (SocketAddress?, SocketAddress?) = switch kind {
        case .server: (local, peer)
        case .client: (peer, local)
        case .internal: (nil, nil)
        }
        if let server {
            visitor.visit("server.address", host: server)
            visitor.visit("server.port", Int(server.port))
        }
        if let client {
            visitor.visit("client.address", host: client)
            visitor.visit("client.port", Int(client.port))
        }
        visitor.visit("network.peer.address", host: peer)
        visitor.visit("network.peer.port", Int(peer.port))
        visitor.visit("network.local.address", host: local)
        visitor.visit("network.local.port", Int(local.port))
        visitor.visit("network.transport", constant: "tcp")
        if peer.isIPv4 {
            visitor.visit("network.type", constant: "ipv4")
        } else {
            visitor.visit("network.type", constant: "ipv6")
        }
        visitor.visit("process.pid", Int(pid))
        if let executable { visitor.visit("process.executable.path", executable) }
        visitor.visit("thread.id", Int(tid))
    }

    /// A connection span's byte counts.
    func visitTCPAttributes<Visitor: SpanAttributeVisitor>(_ visitor: inout Visitor) {
        if let tcp {
            visitor.visit("periscope.tcp.bytes_sent", tcp.bytesSent)
            visitor.visit("periscope.tcp.bytes_received", tcp.bytesReceived)
        }
    }
}

extension HTTPStorage {
    /// The HTTP attributes of the details the box holds, read where they lie.
    func visitAttributes<Visitor: SpanAttributeVisitor>(_ visitor: inout Visitor) {
        var details = details
        details.visitAttributes(&visitor)
    }
}

extension HTTPDetails {
    /// Hands each HTTP attribute to `visitor`, in `Span.attributes` order. Mutating only so
    /// that it is called where the details lie (in their box), never on a copy; it changes
    /// nothing.
    mutating func visitAttributes<Visitor: SpanAttributeVisitor>(_ visitor: inout Visitor) {
        // The method and the path from the bytes they were read as, when they can be.
        let common = withMethodBytes { method in
            guard Span.isCommonMethod(method) else { return false }
            visitor.visit("http.request.method", utf8: method)
            return true
        }
        if !common {
            let method = self.method
            if Span.isSemanticConventionMethod(method) {
                visitor.visit("http.request.method", method)
            } else {
                visitor.visit("http.request.method", constant: "_OTHER")
                visitor.visit("http.request.method_original", method)
            }
        }
        switch scheme {
        case "http": visitor.visit("url.scheme", constant: "http")
        case "https": visitor.visit("url.scheme", constant: "https")
        default: visitor.visit("url.scheme", scheme)
        }
        let pathWritten = withPathBytes { needsSlash, path in
            guard !needsSlash else { return false }
            visitor.visit("url.path", utf8: path)
            return true
        }
        if !pathWritten { visitor.visit("url.path", path) }
        if let route { visitor.visit("http.route", route) }
        if let statusCode { visitor.visit("http.response.status_code", statusCode) }
        visitor.visit("network.protocol.name", constant: "http")
        switch protocolVersion {
        case "1.1": visitor.visit("network.protocol.version", constant: "1.1")
        case "1.0": visitor.visit("network.protocol.version", constant: "1.0")
        case "2": visitor.visit("network.protocol.version", constant: "2")
        default: visitor.visit("network.protocol.version", protocolVersion)
        }
        if let requestBodySize { visitor.visit("http.request.body.size", requestBodySize) }
        if let responseBodySize { visitor.visit("http.response.body.size", responseBodySize) }
        if let userAgent { visitor.visit("user_agent.original", userAgent) }
    }
}

/// Collects visited attributes into `Span.attributes`' list.
private struct AttributeList: SpanAttributeVisitor {
    var result: [(key: String, value: AttributeValue)] = []

    mutating func visit(_ key: StaticString, _ value: String) { result.append((key.description, .string(value))) }
    mutating func visit(_ key: StaticString, _ value: Int) { result.append((key.description, .int(value))) }
    mutating func visit(_ key: StaticString, host address: SocketAddress) { result.append((key.description, .string(address.host))) }
    mutating func visit(_ attribute: Attribute) { result.append((attribute.key, attribute.value)) }
}
