extension OTLPTraceEncoder {
    /// The HTTP attributes (`HTTPDetails.visitAttributes`) of a request of the common shape
    /// as span attributes (`KeyValue`s of field 9), the same bytes as one by one: constant
    /// attributes (scheme, protocol name and version) copied whole, the others a constant
    /// key followed by lengths of one byte. False, writing nothing, for any other shape (as
    /// `SpanJSONFormatter.writeCommonHTTPAttributes` decides it) or a method, path, route or
    /// user agent too long for one-byte lengths. `inout` only so that the details are read
    /// where they lie: nothing is changed.
    static func writeCommonHTTPAttributes(_ http: inout HTTPDetails, to writer: inout ByteWriter) -> Bool {
        let version1 = switch http.protocolVersion {
        case "1.1": true
        case "1.0": false
        default: nil as Bool?
        }
        let https = switch http.scheme {
        case "http": false
        case "https": true
        default: nil as Bool?
        }
        guard let version1, let https, http.withMethodBytes({ Span.isCommonMethod($0) }),
              http.withPathBytes({ needsSlash, path in !needsSlash && path.count <= maximumShortString && ByteWriter.isASCII(path) }),
              http.withUserAgentBytes({ $0.count <= maximumShortString && ByteWriter.isASCII($0) }) ?? true,
              (http.route?.utf8.count ?? 0) <= maximumShortString
        else { return false }
        http.withMethodBytes { writer.shortStringAttribute("\u{0A}\u{13}http.request.method\u{12}", $0) }
        if https {
            writer.bytes("\u{4A}\u{15}\u{0A}\u{0A}url.scheme\u{12}\u{07}\u{0A}\u{05}https")
        } else {
            writer.bytes("\u{4A}\u{14}\u{0A}\u{0A}url.scheme\u{12}\u{06}\u{0A}\u{04}http")
        }
        http.withPathBytes { _, path in writer.shortStringAttribute("\u{0A}\u{08}url.path\u{12}", path) }
        if let route = http.route {
            let lent: Void? = route.utf8.withContiguousStorageIfAvailable {
                writer.shortStringAttribute("\u{0A}\u{0A}http.route\u{12}", $0)
            }
            if lent == nil {
                var route = route
                route.withUTF8 { writer.shortStringAttribute("\u{0A}\u{0A}http.route\u{12}", $0) }
            }
        }
        if let code = http.statusCode {
            writer.intAttribute("\u{0A}\u{19}http.response.status_code\u{12}", code)
        }
        if version1 {
            writer.bytes(
                "\u{4A}\u{1F}\u{0A}\u{15}network.protocol.name\u{12}\u{06}\u{0A}\u{04}http\u{4A}\u{21}\u{0A}\u{18}network.protocol.version\u{12}\u{05}\u{0A}\u{03}1.1"
            )
        } else {
            writer.bytes(
                "\u{4A}\u{1F}\u{0A}\u{15}network.protocol.name\u{12}\u{06}\u{0A}\u{04}http\u{4A}\u{21}\u{0A}\u{18}network.protocol.version\u{12}\u{05}\u{0A}\u{03}1.0"
            )
        }
        if let size = http.requestBodySize {
            writer.intAttribute("\u{0A}\u{16}http.request.body.size\u{12}", size)
        }
        if let size = http.responseBodySize {
            writer.intAttribute("\u{0A}\u{17}http.response.body.size\u{12}", size)
        }
        _ = http.withUserAgentBytes { writer.shortStringAttribute("\u{0A}\u{13}user_agent.original\u{12}", $0) }
        return true
    }

    /// The longest string value `writeCommonHTTPAttributes` writes: with the longest of its
    /// keys, every length of the `KeyValue` still takes one byte.
    static let maximumShortString = 96
}

extension ByteWriter {
    /// A span attribute (`KeyValue`, field 9) with a string value: `key` is the key's
    /// encoding up to the value's tag (`0A`, its length, the key, `12`), the key and the value
    /// together short enough (below 120 bytes) for every length to take one byte.
    @inline(__always)
    fileprivate mutating func shortStringAttribute(_ key: StaticString, _ value: UnsafeBufferPointer<UInt8>) {
        let keyCount = key.utf8CodeUnitCount
        let count = value.count
        reserve(keyCount + count + 5)
        cursor[0] = 0x4A
        cursor[1] = UInt8(truncatingIfNeeded: keyCount &+ count &+ 3)
        (cursor + 2).initialize(from: key.utf8Start, count: keyCount)
        cursor += 2 &+ keyCount
        // AnyValue { string_value = 1 }.
        cursor[0] = UInt8(truncatingIfNeeded: count &+ 2)
        cursor[1] = 0x0A
        cursor[2] = UInt8(truncatingIfNeeded: count)
        cursor += 3
        if let source = value.baseAddress {
            UnsafeMutableRawPointer(cursor).copyMemory(from: source, byteCount: count)
            cursor += count
        }
    }

    /// A span attribute (`KeyValue`, field 9) with an integer value, `key` as
    /// `shortStringAttribute` takes it.
    @inline(__always)
    fileprivate mutating func intAttribute(_ key: StaticString, _ value: Int) {
        let keyCount = key.utf8CodeUnitCount
        let number = UInt64(bitPattern: Int64(value))
        let size = ProtobufWriter.varintSize(number)
        reserve(keyCount + 14)
        cursor[0] = 0x4A
        cursor[1] = UInt8(truncatingIfNeeded: keyCount &+ size &+ 2)
        (cursor + 2).initialize(from: key.utf8Start, count: keyCount)
        cursor += 2 &+ keyCount
        // AnyValue { int_value = 3 }, written even when zero.
        cursor[0] = UInt8(truncatingIfNeeded: size &+ 1)
        cursor[1] = 0x18
        cursor += 2
        uncheckedVarint(number)
    }
}
