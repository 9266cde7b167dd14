/// Recognizes the statement keywords SQL text starts with, for telling a database protocol
/// from other bytes when a connection is first seen.
enum SQLKeywords {
    static let statementStarts: [StaticString] = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SET", "SHOW", "CREATE",
        "DROP", "ALTER", "COPY", "VALUES", "EXPLAIN", "START", "DECLARE", "FETCH", "CLOSE", "DISCARD",
        "DEALLOCATE", "LISTEN", "NOTIFY", "UNLISTEN", "PREPARE", "EXECUTE", "TRUNCATE", "VACUUM", "ANALYZE",
        "LOCK", "GRANT", "REVOKE", "CALL", "DO", "MERGE", "RESET", "SAVEPOINT", "RELEASE", "TABLE", "ABORT", "END",
        "COMMENT", "REFRESH", "USE", "REPLACE", "DESCRIBE", "DESC", "HANDLER", "LOAD", "KILL", "FLUSH", "XA",
    ]

    /// `.matches` when `text` (after leading whitespace) starts with a statement keyword
    /// followed by a byte that cannot continue it; `.needMoreBytes` when it may yet.
    static func startsWithStatement(_ text: ArraySlice<UInt8>) -> ProtocolDetection {
        guard let start = text.firstIndex(where: { !SQLLexer.isSpace($0) }) else {
            return text.count < 16 ? .needMoreBytes : .doesNotMatch
        }
        let rest = text[start...]
        var wordEnd = start
        while wordEnd < rest.endIndex, rest[wordEnd] | 0x20 >= UInt8(ascii: "a"), rest[wordEnd] | 0x20 <= UInt8(ascii: "z") {
            wordEnd += 1
        }
        guard wordEnd < rest.endIndex else { return wordEnd - start <= 12 ? .needMoreBytes : .doesNotMatch }
        let follower = rest[wordEnd]
        guard SQLLexer.isSpace(follower) || follower == UInt8(ascii: "(") || follower == UInt8(ascii: ";") || follower == 0
        else { return .doesNotMatch }
        let word = rest[start..<wordEnd]
        let known = statementStarts.contains { keyword in
            keyword.utf8CodeUnitCount == word.count
                && zip(word, UnsafeBufferPointer(start: keyword.utf8Start, count: keyword.utf8CodeUnitCount)).allSatisfy {
                    $0 | 0x20 == $1 | 0x20
                }
        }
        return known ? .matches : .doesNotMatch
    }
}
