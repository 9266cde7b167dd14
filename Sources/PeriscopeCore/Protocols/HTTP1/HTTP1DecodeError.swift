/// Why bytes could not be decoded as HTTP/1.x. After an error the decoder treats the
/// rest of its stream as opaque.
public struct HTTP1DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// A byte that cannot appear in an HTTP head (NUL, most control characters).
        case invalidByte
        /// The request or status line is not HTTP/1.x.
        case invalidStartLine
        /// A header line without a valid name and colon.
        case invalidHeader
        /// The head exceeded `HTTP1Decoder.maxHeadSize`.
        case headTooLarge
        /// `Content-Length` is not a number, or repeats with different values.
        case invalidContentLength
        /// A request `Transfer-Encoding` whose last coding is not `chunked`.
        case unsupportedTransferEncoding
        /// A chunk-size line that is not hex, too long, or not followed by CRLF.
        case invalidChunk
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
