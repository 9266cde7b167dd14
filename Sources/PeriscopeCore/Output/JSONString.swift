/// JSON string literals (RFC 8259 §7), for callers outside the span printer; the writing
/// itself is `ByteWriter.jsonString`.
enum JSONString {
    static func quoted(_ string: String) -> String {
        var buffer = OutputBuffer(capacity: string.utf8.count + 2)
        buffer.writer.jsonString(string)
        return buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
