/// What an exchange keeps of its request head until its response ends: the bytes of the
/// fields its span reports, copied into the connection's byte store
/// (`HTTP1ProtocolDecoder.requestBytes`, offsets there), and small values. No string is
/// made until the exchange becomes an operation.
struct HTTP1RequestFields: Sendable {
    var method: HTTP1Method
    var methodBytes: Range<Int32>
    var target: Range<Int32>
    var host: Range<Int32>?
    var userAgent: Range<Int32>?
    var traceparent: Range<Int32>?
    var upgradeProtocol: Range<Int32>?
    var minorVersion: UInt8
    /// The `traceparent` parsed; nil when absent or malformed.
    var traceContext: TraceContext?
    /// Where its bytes start in the store.
    var start: Int32

    /// The fields of `head` (lying in `bytes`), their bytes appended to `store` one after
    /// another in this order: the target, host, user agent and `traceparent` lie together
    /// (`HTTP1ProtocolDecoder.spanDetails` copies them at once).
    init(_ head: HTTP1HeadFields, in bytes: UnsafeBufferPointer<UInt8>, store: inout [UInt8]) {
        start = Int32(store.count)
        func copy(_ field: Range<Int32>) -> Range<Int32> {
            let begin = Int32(store.count)
            store.append(contentsOf: bytes[field: field])
            return begin..<Int32(store.count)
        }
        method = head.method
        methodBytes = head.method == .other ? copy(head.methodBytes) : start..<start
        target = copy(head.target)
        host = head.host.map(copy)
        userAgent = head.userAgent.map(copy)
        traceparent = head.traceparent.map(copy)
        upgradeProtocol = head.upgradeProtocol.map(copy)
        minorVersion = head.minorVersion
        traceContext = head.traceparent.flatMap { TraceContext.parse(bytes[field: $0]) }
    }

    /// The same fields after the store dropped its first `count` bytes.
    mutating func shift(by count: Int32) {
        func moved(_ field: Range<Int32>) -> Range<Int32> { (field.lowerBound - count)..<(field.upperBound - count) }
        start -= count
        methodBytes = moved(methodBytes)
        target = moved(target)
        host = host.map(moved)
        userAgent = userAgent.map(moved)
        traceparent = traceparent.map(moved)
        upgradeProtocol = upgradeProtocol.map(moved)
    }
}
