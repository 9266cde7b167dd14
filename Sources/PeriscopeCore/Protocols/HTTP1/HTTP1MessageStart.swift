/// What the first bytes of a stream say about it: the start of an HTTP/1.x request
/// (a known method and a space), of a response (`HTTP/1.`), of neither, or too few
/// bytes to tell.
public enum HTTP1MessageStart: Sendable, Equatable {
    case request
    case response
    case notHTTP
    /// The bytes are a proper prefix of a request or response start.
    case undecided

    /// The methods recognised when detecting HTTP on a connection.
    public static let knownMethods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"]

    private static let requestStarts: [[UInt8]] = knownMethods.map { Array($0.utf8) + [UInt8(ascii: " ")] }
    private static let responseStart: [UInt8] = Array("HTTP/1.".utf8)

    public init(classifying bytes: some Collection<UInt8>) {
        var undecided = false
        func check(_ candidate: [UInt8]) -> Bool {
            if bytes.count >= candidate.count {
                return bytes.prefix(candidate.count).elementsEqual(candidate)
            }
            if candidate.starts(with: bytes) { undecided = true }
            return false
        }
        if Self.requestStarts.contains(where: check) {
            self = .request
        } else if check(Self.responseStart) {
            self = .response
        } else {
            self = undecided ? .undecided : .notHTTP
        }
    }
}
