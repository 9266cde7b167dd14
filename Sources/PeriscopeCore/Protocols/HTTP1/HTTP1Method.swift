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

    /// The method whose name is the low lanes of `word`, the lanes above it zero (a name of
    /// up to seven bytes, none of them zero: a token's). Nil for any other name.
    static func known(word: UInt64) -> HTTP1Method? {
        switch word {
        case 0x54_4547: .get  // "GET"
        case 0x54_5550: .put  // "PUT"
        case 0x4441_4548: .head  // "HEAD"
        case 0x5453_4f50: .post  // "POST"
        case 0x45_4341_5254: .trace  // "TRACE"
        case 0x48_4354_4150: .patch  // "PATCH"
        case 0x4554_454c_4544: .delete  // "DELETE"
        case 0x54_4345_4e4e_4f43: .connect  // "CONNECT"
        case 0x53_4e4f_4954_504f: .options  // "OPTIONS"
        default: nil
        }
    }

    /// The bytes' method compared as one number: a name of 3 bytes in its lanes, a longer one
    /// (up to 7) as its first four bytes and its last four (which overlap), with the length.
    static func known(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTP1Method? {
        guard let base = bytes.baseAddress, (3...7).contains(bytes.count) else { return nil }
        let raw = UnsafeRawPointer(base)
        let word = bytes.count == 3
            ? UInt64(raw.loadUnaligned(as: UInt16.self)) | UInt64(base[2]) << 16
            : UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)) << 32
        switch (bytes.count, word) {
        case (3, 0x54_4547): return .get  // "GET"
        case (3, 0x54_5550): return .put  // "PUT"
        case (4, 0x4441_4548_4441_4548): return .head  // "HEAD", "HEAD"
        case (4, 0x5453_4f50_5453_4f50): return .post  // "POST", "POST"
        case (5, 0x4543_4152_4341_5254): return .trace  // "TRAC", "RACE"
        case (5, 0x4843_5441_4354_4150): return .patch  // "PATC", "ATCH"
        case (6, 0x4554_454c_454c_4544): return .delete  // "DELE", "LETE"
        case (7, 0x5443_454e_4e4e_4f43): return .connect  // "CONN", "NECT"
        case (7, 0x534e_4f49_4954_504f): return .options  // "OPTI", "IONS"
        default: return nil
        }
    }
}
