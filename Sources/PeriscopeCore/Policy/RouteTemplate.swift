/// The route of a path that no configured pattern matches: identifiers are replaced
/// by placeholders so that `http.route` (and every metric series keyed by it) stays
/// bounded however many users, orders or objects a service has.
///
/// A segment of digits becomes `{id}`, a UUID `{uuid}`, 16 or more hex digits `{hex}`;
/// anything from `?` on is dropped. `/users/42/orders/9f1c…` → `/users/{id}/orders/{hex}`.
public enum RouteTemplate {
    /// Hex segments at least this long are taken for identifiers.
    public static let minimumHexLength = 16

    public static func template(for path: String) -> String {
        var path = Substring(path)
        if let query = path.utf8.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        guard path.utf8.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return String(path)
        }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { placeholder(for: $0) ?? String($0) }
            .joined(separator: "/")
    }

    static func placeholder(for segment: Substring) -> String? {
        let utf8 = segment.utf8
        guard !utf8.isEmpty else { return nil }
        if utf8.allSatisfy(isDigit) { return "{id}" }
        if isUUID(utf8) { return "{uuid}" }
        if utf8.count >= minimumHexLength, utf8.allSatisfy(isHexDigit) { return "{hex}" }
        return nil
    }

    static func isUUID(_ utf8: Substring.UTF8View) -> Bool {
        guard utf8.count == 36 else { return false }
        for (offset, byte) in utf8.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !isHexDigit(byte) {
                return false
            }
        }
        return true
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
