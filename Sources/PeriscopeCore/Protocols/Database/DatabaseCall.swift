/// One database operation in flight: what its request said and what its answer brought so
/// far. Becomes a `ProtocolOperation` with OpenTelemetry's database attributes when it ends.
struct DatabaseCall: Sendable {
    /// Kernel nanoseconds and thread of the request's first byte.
    var start: UInt64
    var tid: Int32
    var query: DatabaseQuery
    /// `db.response.status_code` when the database answered with an error.
    var errorCode: String?
    /// The error's message, bounded.
    var errorMessage: String?
    /// Rows the answer carried (`db.response.returned_rows`), when counted.
    var returnedRows: Int?
    /// The `RequestStart.exchangeID` that announced it, once announced.
    var exchangeID: UInt64?

    init(start: UInt64, tid: Int32, query: DatabaseQuery) {
        self.start = start
        self.tid = tid
        self.query = query
    }

    /// Equal for the same statement (sanitized) passing through a proxy in and out.
    var requestDigest: UInt64 {
        SpanLinkHints.digest(method: query.operation ?? "", target: query.text ?? "")
    }

    /// Gives the call `exchangeID` and announces its start.
    mutating func announce(_ exchangeID: UInt64) -> ProtocolOutput {
        self.exchangeID = exchangeID
        return .requestStarted(RequestStart(exchangeID: exchangeID, timestamp: start, tid: tid, requestDigest: requestDigest))
    }

    /// Longest error message kept, in bytes.
    static let maxErrorMessageLength = 256

    /// The finished operation, ended at `end`; `abandoned` (the connection ended first)
    /// makes it an error with that message.
    func operation(system: DatabaseSystem, namespace: String?, end: UInt64, abandoned: String? = nil) -> ProtocolOperation {
        var attributes: [Attribute] = []
        attributes.reserveCapacity(8)
        attributes.append(Attribute("db.system.name", .string(system.rawValue)))
        if let namespace { attributes.append(Attribute("db.namespace", .string(namespace))) }
        if let operation = query.operation { attributes.append(Attribute("db.operation.name", .string(operation))) }
        if let collection = query.collection { attributes.append(Attribute("db.collection.name", .string(collection))) }
        if let text = query.text { attributes.append(Attribute("db.query.text", .string(text))) }
        if let errorCode {
            attributes.append(Attribute("db.response.status_code", .string(errorCode)))
            attributes.append(Attribute("error.type", .string(errorCode)))
        }
        if let returnedRows { attributes.append(Attribute("db.response.returned_rows", .int(returnedRows))) }
        let failed = errorCode != nil || abandoned != nil
        return ProtocolOperation(
            exchangeID: exchangeID, start: start, end: max(end, start), tid: tid, name: query.spanName(system: system),
            status: failed ? .error : .unset, statusMessage: abandoned ?? errorMessage, attributes: attributes,
            requestDigest: exchangeID != nil ? requestDigest : nil
        )
    }
}

extension String {
    /// Text from bytes that may be cut anywhere: invalid UTF-8 is replaced, at most
    /// `limit` bytes are read and a cut never splits a character.
    init(boundedUTF8 bytes: ArraySlice<UInt8>, limit: Int) {
        var end = bytes.startIndex + Swift.min(bytes.count, Swift.max(0, limit))
        if end < bytes.endIndex {
            // Back off continuation bytes so the cut falls on a character boundary.
            while end > bytes.startIndex, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        }
        let text = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        guard text.utf8.count > limit else {
            self = text
            return
        }
        // Replacement characters for invalid bytes are longer than the bytes they replace.
        var length = 0
        let scalars = text.unicodeScalars.prefix { scalar in
            length += UTF8.width(scalar)
            return length <= limit
        }
        self = String(String.UnicodeScalarView(scalars))
    }
}
