/// Valid HTTP/1.x streams that fuzz tests mutate.
enum HTTP1Corpus {
    static let requests: [String] = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /p?q=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /x HTTP/1.0\r\n\r\n",
        "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
        "HEAD http://h/p HTTP/1.1\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
    ]

    static let responses: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n",
        "HTTP/1.0 200 OK\r\n\r\nuntil close",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n\u{81}\u{1}x",
    ]

    /// A corpus entry with random edits: flipped, inserted, deleted and duplicated bytes,
    /// or plain random bytes.
    static func mutated(_ text: String, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = Array(text.utf8)
        if Int.random(in: 0..<10, using: &generator) == 0 {
            return (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        }
        for _ in 0..<Int.random(in: 0...4, using: &generator) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: bytes[at] = UInt8.random(in: .min ... .max, using: &generator)
            case 1: bytes.insert(contentsOf: Array("\r\n:; 0123456789abcdefHTTP/1.1 ".utf8).shuffled(using: &generator).prefix(3), at: at)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &generator)))
            case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 20)], at: at)
            default: bytes[at] ^= 0x20
            }
        }
        return bytes
    }

    /// Splits bytes into reads or writes at random points; some lose a random suffix to a gap.
    static func chunks(_ bytes: [UInt8], using generator: inout some RandomNumberGenerator) -> [(bytes: [UInt8], gap: Int)] {
        var result: [(bytes: [UInt8], gap: Int)] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &generator))
            let captured = Int.random(in: 0..<6, using: &generator) == 0 ? Int.random(in: start...end, using: &generator) : end
            result.append((Array(bytes[start..<captured]), end - captured))
            start = end
        }
        return result
    }
}
