/// A request method as a small value: the methods HTTP defines, or `other` for any other
/// token (whose bytes a head keeps where they lie).
public enum HTTP1Method: UInt8, Sendable, Equatable {
    case get
    case head
    case post
    case put
    case delete
    case connect
    case options
    case trace
    case patch
    case other

    /// The method named by `bytes`, compared exactly (methods are case-sensitive).
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self = Self.known(bytes) ?? .other
    }

    /// The method named by `name`; `other` for a name not listed.
    public init(_ name: some StringProtocol) {
        var name = String(name)
        self = name.withUTF8 { Self.known($0) } ?? .other
    }

    /// The method's name; nil for `other`.
    public var name: StaticString? {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .connect: "CONNECT"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .patch: "PATCH"
        case .other: nil
        }
    }

    /// `name` as a string (a constant, nothing built); nil for `other`.
    public var string: String? {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .connect: "CONNECT"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .patch: "PATCH"
        case .other: nil
        }
    }

    private static func known(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTP1Method? {
        let candidate: HTTP1Method
        switch (bytes.count, bytes.first) {
        case (3, UInt8(ascii: "G")): candidate = .get
        case (3, UInt8(ascii: "P")): candidate = .put
        case (4, UInt8(ascii: "H")): candidate = .head
        case (4, UInt8(ascii: "P")): candidate = .post
        case (5, UInt8(ascii: "T")): candidate = .trace
        case (5, UInt8(ascii: "P")): candidate = .patch
        case (6, UInt8(ascii: "D")): candidate = .delete
        case (7, UInt8(ascii: "C")): candidate = .connect
        case (7, UInt8(ascii: "O")): candidate = .options
        default: return nil
        }
        guard let name = candidate.name else { return nil }
        let expected = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return expected.elementsEqual(bytes) ? candidate : nil
    }
}
