/// What Periscope reads from an HTTP/1.x head, as positions in the head's bytes and small
/// values: what `HTTP1HeadParser` finds, with no string made and nothing allocated. Offsets
/// count from the head's first byte (a head is at most `HTTP1Decoder.maxHeadSize` bytes);
/// the bytes themselves stay where they were read.
struct HTTP1HeadFields: Sendable, Equatable {
    typealias Field = Range<Int32>

    /// The request method; `other` for a response or a method not listed (see `methodBytes`).
    var method = HTTP1Method.other
    /// A request's method token and target as sent; empty for a response.
    var methodBytes: Field = 0..<0
    var target: Field = 0..<0
    /// A response's status code and reason phrase; nil and empty for a request.
    var statusCode: Int?
    var reason: Field = 0..<0
    /// The minor version digit (`1` for `HTTP/1.1`).
    var minorVersion = UInt8(ascii: "1")
    /// The first `Host`, `User-Agent` and `traceparent` values.
    var host: Field?
    var userAgent: Field?
    var traceparent: Field?
    /// The first protocol the `Upgrade` headers name (a list element, trimmed).
    var upgradeProtocol: Field?
    /// The value of `Content-Length`, when present and valid.
    var contentLength: Int?
    /// Whether a `Transfer-Encoding` header is present, and whether its last coding is `chunked`.
    var hasTransferEncoding = false
    var isChunked = false
    /// Where the header lines start (after the start line) and where the last complete line ends.
    var headerStart: Int32 = 0
    var end: Int32 = 0
    /// False when a capture gap cut the head short.
    var isComplete = true

    /// `HTTP/1.1` → "1.1".
    var version: String { Self.version(minor: minorVersion) }

    static func version(minor: UInt8) -> String {
        switch minor {
        case UInt8(ascii: "1"): "1.1"
        case UInt8(ascii: "0"): "1.0"
        default: "1." + String(UnicodeScalar(minor))
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes of `field`, one of a head's fields lying in this buffer.
    subscript(field field: Range<Int32>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self[Int(field.lowerBound)..<Int(field.upperBound)])
    }

    /// The bytes of `field` as a string (invalid UTF-8 repaired).
    func string(_ field: Range<Int32>) -> String {
        String(decoding: self[field: field], as: UTF8.self)
    }
}
