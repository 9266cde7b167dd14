/// An `http://` or `https://` URL taken apart by hand: scheme, host, optional port and
/// the rest. Enough to validate an export endpoint without Foundation.
public struct HTTPEndpoint: Sendable, Hashable {
    /// `http` or `https`, lowercased.
    public var scheme: String
    /// Host name or address; IPv6 without its brackets.
    public var host: String
    /// 1…65535 when given.
    public var port: Int?
    /// Everything after the authority (`/v1/traces`), possibly empty.
    public var path: String

    /// Parses `text`; nil unless the scheme is http or https, the host is non-empty and
    /// the port, if present, is a number from 1 to 65535.
    public init?(_ text: String) {
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let afterScheme = text[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard !authority.contains("@"),
              !authority.contains(where: { $0.isWhitespace || $0.isNewline })
        else { return nil }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
            guard !host.isEmpty else { return nil }
        }
        var port: Int?
        if let portText {
            guard portText.count <= 5, let value = PolicyNode.decimal(portText),
                  portText.first != "+", portText.first != "-", (1...65535).contains(value)
            else { return nil }
            port = value
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.path = String(afterScheme[authorityEnd...])
    }
}
