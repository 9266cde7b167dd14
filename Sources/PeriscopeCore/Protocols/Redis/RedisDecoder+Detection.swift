extension RedisDecoder {
    /// Commands inline detection accepts, in uppercase only (the lowercase words of other
    /// text protocols, memcached's `get` and `set` among them, do not match).
    static let inlineCommands: Set<String> = [
        "PING", "AUTH", "HELLO", "INFO", "SELECT", "GET", "SET", "DEL", "EXISTS", "KEYS", "SCAN", "TYPE", "TTL",
        "EXPIRE", "INCR", "DECR", "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE", "LLEN", "HGET", "HSET", "HGETALL",
        "SADD", "SMEMBERS", "ZADD", "ZRANGE", "MGET", "MSET", "QUIT", "DBSIZE", "FLUSHDB", "FLUSHALL", "CLIENT",
        "CONFIG", "MONITOR", "SUBSCRIBE", "PUBLISH", "MULTI", "EXEC", "ECHO",
    ]

    /// Redis clients speak first. On the requests stream: a RESP array of bulk strings
    /// (`*N\r\n$L\r\nNAME…`) whose first is a command-like name, or an inline command — a
    /// line starting with a known command in uppercase, and no HTTP request line. Server
    /// bytes alone never match.
    public static func detect(_ bytes: ArraySlice<UInt8>, stream: MessageStream) -> ProtocolDetection {
        guard stream == .requests else { return .doesNotMatch }
        guard let first = bytes.first else { return .needMoreBytes }
        if first == UInt8(ascii: "*") { return detectArray(bytes.dropFirst()) }
        let word = bytes.prefix { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        guard word.count < bytes.count else { return word.count < 12 ? .needMoreBytes : .doesNotMatch }
        let follower = bytes[word.endIndex]
        guard follower == UInt8(ascii: " ") || follower == UInt8(ascii: "\r") || follower == UInt8(ascii: "\n"),
              inlineCommands.contains(String(decoding: word, as: UTF8.self)) else { return .doesNotMatch }
        // The whole line, which an HTTP/1 request line (`GET / HTTP/1.1`) is not.
        let line = bytes.prefix(256)
        guard let end = line.firstIndex(of: UInt8(ascii: "\n")) else { return line.count < 256 ? .needMoreBytes : .doesNotMatch }
        return line[..<end].windowContains(" HTTP/".utf8) ? .doesNotMatch : .matches
    }

    /// After `*`: a count line, `$`, a length line, then the name's bytes.
    private static func detectArray(_ rest: ArraySlice<UInt8>) -> ProtocolDetection {
        var cursor = rest
        func number(maxDigits: Int) -> ProtocolDetection? {
            let digits = cursor.prefix { RedisSyntax.isDigit($0) }
            guard digits.count == cursor.count || digits.count > 0 else { return .doesNotMatch }
            guard digits.count <= maxDigits else { return .doesNotMatch }
            cursor = cursor.dropFirst(digits.count)
            if cursor.isEmpty { return .needMoreBytes }
            guard cursor.first == UInt8(ascii: "\r") else { return .doesNotMatch }
            cursor = cursor.dropFirst()
            if cursor.isEmpty { return .needMoreBytes }
            guard cursor.first == UInt8(ascii: "\n") else { return .doesNotMatch }
            cursor = cursor.dropFirst()
            return nil
        }
        if cursor.isEmpty { return .needMoreBytes }
        if let verdict = number(maxDigits: 7) { return verdict }
        if cursor.isEmpty { return .needMoreBytes }
        guard cursor.first == UInt8(ascii: "$") else { return .doesNotMatch }
        cursor = cursor.dropFirst()
        if cursor.isEmpty { return .needMoreBytes }
        let lengthText = cursor.prefix { RedisSyntax.isDigit($0) }
        if let verdict = number(maxDigits: 2) { return verdict }
        guard let length = RedisSyntax.integer(lengthText), length >= 2, length <= 64 else { return .doesNotMatch }
        let name = cursor.prefix(length)
        let commandLike = name.allSatisfy {
            ($0 | 0x20 >= UInt8(ascii: "a") && $0 | 0x20 <= UInt8(ascii: "z")) || RedisSyntax.isDigit($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "|")
        }
        guard commandLike, let initial = name.first, initial | 0x20 >= UInt8(ascii: "a"), initial | 0x20 <= UInt8(ascii: "z") else {
            return name.isEmpty ? .needMoreBytes : .doesNotMatch
        }
        return name.count == length ? .matches : .needMoreBytes
    }
}

extension ProtocolRegistration {
    /// Redis, on with `redis`. Detected on the requests stream only.
    public static let redis = ProtocolRegistration(
        name: .redis,
        detect: { RedisDecoder.detect($0, stream: $1) },
        make: { RedisDecoder(configuration: $0) }
    )
}
