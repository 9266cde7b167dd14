/// Works out, in one pass over a statement's tokens, what a database span reports about it:
/// `db.operation.name` (the first keyword; for `WITH …` the statement that follows),
/// `db.collection.name` (when exactly one table is named) and `db.query.text` with every
/// string, numeric, hex, bit and boolean literal replaced by `?`, comments removed, runs of
/// whitespace made one space, `IN (…)` lists of literals or placeholders collapsed to
/// `IN (?)`, and the length bounded. With `keepQueryValues` the text is kept as sent
/// (bounded); the operation and collection are worked out all the same.
struct SQLSanitizer {
    /// Statement bytes looked at; callers pass at most this many.
    static let maxInputLength = 16384

    static func query(_ sql: ArraySlice<UInt8>, dialect: SQLLexer.Dialect, options: DatabaseQueryOptions) -> DatabaseQuery {
        var scan = SQLSanitizer(sql.prefix(maxInputLength), dialect: dialect, options: options)
        while let token = scan.lexer.next() { scan.consume(token) }
        scan.endOfText()
        return scan.result()
    }

    private enum TableState {
        case none
        /// After `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, …: a table name may follow. In a
        /// `list` a comma brings another; `fromLike` names followed by `(` are functions.
        case expectName(list: Bool, fromLike: Bool)
        case inName(start: Int, end: Int, list: Bool, fromLike: Bool)
        case afterDot(start: Int, list: Bool, fromLike: Bool)
        case afterName(list: Bool, fromLike: Bool)
        case afterAs(fromLike: Bool)
        case afterAlias(fromLike: Bool)
    }

    private enum ListState {
        case none
        case afterIn
        /// Inside `IN (`: the output offset after the parenthesis, and the literals seen.
        case inList(start: Int, literals: Int)
    }

    private var lexer: SQLLexer
    private let keepValues: Bool
    private let limit: Int
    private var output: [UInt8] = []
    private var truncated = false
    private var pendingSpace = false
    private var operation: String?
    private var awaitingStatementAfterWith = false
    private var depth = 0
    /// Bit `d`: parentheses at depth `d` hold a query (depth 0 always does).
    private var queryScopes: UInt64 = 1
    private var justOpened = false
    private var previous: SQLLexer.Token?
    private var table = TableState.none
    private var collection: Range<Int>?
    private var severalCollections = false
    private var list = ListState.none

    private init(_ sql: ArraySlice<UInt8>, dialect: SQLLexer.Dialect, options: DatabaseQueryOptions) {
        lexer = SQLLexer(sql, dialect: dialect)
        keepValues = options.keepQueryValues
        limit = options.maxQueryTextLength
        if !keepValues { output.reserveCapacity(min(sql.count, limit)) }
    }

    private var bytes: ArraySlice<UInt8> { lexer.bytes }

    /// A table name that ends the text is complete.
    private mutating func endOfText() {
        if case .inName(let start, let end, _, _) = table { record(start..<end) }
        table = .none
    }

    private func result() -> DatabaseQuery {
        let text: String
        if keepValues {
            var start = bytes.startIndex
            var end = bytes.endIndex
            while start < end, SQLLexer.isSpace(bytes[start]) { start += 1 }
            while end > start, SQLLexer.isSpace(bytes[end - 1]) || bytes[end - 1] == 0 { end -= 1 }
            text = String(boundedUTF8: bytes[start..<end], limit: limit)
        } else {
            text = String(boundedUTF8: output[...], limit: limit)
        }
        let name = severalCollections ? nil : collection.map { Self.unquoted(bytes[$0]) }
        let operation = operation ?? (awaitingStatementAfterWith ? "WITH" : nil)
        return DatabaseQuery(operation: operation, collection: name, text: text.isEmpty ? nil : text)
    }

    private mutating func consume(_ token: SQLLexer.Token) {
        guard token.kind != .space else {
            pendingSpace = true
            return
        }
        let isLiteral = token.kind == .literal || (token.kind == .word && (matches(token, "TRUE") || matches(token, "FALSE")))
        if !keepValues { write(token, isLiteral: isLiteral) }
        if token.kind == .word { noteOperation(token) }
        trackTables(token)
        if token.kind == .punctuation { trackDepth(token) }
        previous = token
    }

    // MARK: Output

    private mutating func write(_ token: SQLLexer.Token, isLiteral: Bool) {
        let afterIn: Bool
        switch list {
        case .inList(let start, let literals):
            afterIn = false
            if isLiteral || token.kind == .placeholder {
                list = .inList(start: start, literals: literals + 1)
            } else if isPunctuation(token, ",") {
                break
            } else if isPunctuation(token, ")"), literals > 0, !truncated {
                output.removeSubrange(start...)
                output.append(UInt8(ascii: "?"))
                pendingSpace = false
                list = .none
            } else {
                list = .none
            }
        case .afterIn:
            afterIn = true
            list = .none
        case .none:
            afterIn = false
        }
        if pendingSpace, !output.isEmpty { append(CollectionOfOne(UInt8(ascii: " "))) }
        pendingSpace = false
        if isLiteral {
            append(CollectionOfOne(UInt8(ascii: "?")))
        } else {
            append(bytes[token.range])
        }
        if token.kind == .word, matches(token, "IN") {
            list = .afterIn
        } else if afterIn, isPunctuation(token, "(") {
            list = .inList(start: output.count, literals: 0)
        }
    }

    private mutating func append<Bytes: Collection<UInt8>>(_ text: Bytes) {
        guard !truncated else { return }
        guard output.count + text.count <= limit else {
            truncated = true
            return
        }
        output.append(contentsOf: text)
    }

    // MARK: Operation

    private mutating func noteOperation(_ token: SQLLexer.Token) {
        if operation == nil, !awaitingStatementAfterWith {
            if matches(token, "WITH") {
                awaitingStatementAfterWith = true
            } else {
                operation = Self.uppercased(bytes[token.range])
            }
        } else if awaitingStatementAfterWith, operation == nil, depth == 0,
                  matches(token, "SELECT") || matches(token, "INSERT") || matches(token, "UPDATE") || matches(token, "DELETE") || matches(token, "MERGE") {
            operation = Self.uppercased(bytes[token.range])
        }
    }

    // MARK: Parentheses

    private mutating func trackDepth(_ token: SQLLexer.Token) {
        switch bytes[token.range.lowerBound] {
        case UInt8(ascii: "("):
            depth += 1
            if depth < 64 { queryScopes &= ~(1 << UInt64(depth)) }
            justOpened = true
            return
        case UInt8(ascii: ")"):
            if depth > 0 { depth -= 1 }
        default:
            break
        }
        justOpened = false
    }

    private var inQueryScope: Bool {
        depth < 64 && queryScopes & (1 << UInt64(depth)) != 0
    }

    // MARK: Tables

    private mutating func trackTables(_ token: SQLLexer.Token) {
        if justOpened {
            if token.kind == .word, matches(token, "SELECT") || matches(token, "WITH"), depth < 64 {
                queryScopes |= 1 << UInt64(depth)
            }
            if token.kind != .punctuation { justOpened = false }
        }
        switch table {
        case .none:
            break
        case .expectName(let isList, let fromLike):
            if token.kind == .word, isSkippedBeforeName(token) { return }
            if token.kind == .quotedIdentifier || (token.kind == .word && !isReserved(token)) {
                table = .inName(start: token.range.lowerBound, end: token.range.upperBound, list: isList, fromLike: fromLike)
                return
            }
            table = .none
        case .inName(let start, let end, let isList, let fromLike):
            if isPunctuation(token, ".") {
                table = .afterDot(start: start, list: isList, fromLike: fromLike)
                return
            }
            if !(fromLike && isPunctuation(token, "(")) { record(start..<end) }
            table = isList ? .afterName(list: true, fromLike: fromLike) : .none
            trackTables(token)
            return
        case .afterDot(let start, let isList, let fromLike):
            if token.kind == .word || token.kind == .quotedIdentifier {
                table = .inName(start: start, end: token.range.upperBound, list: isList, fromLike: fromLike)
                return
            }
            table = .none
        case .afterName(_, let fromLike):
            if isPunctuation(token, ",") {
                table = .expectName(list: true, fromLike: fromLike)
                return
            }
            if token.kind == .word, matches(token, "AS") {
                table = .afterAs(fromLike: fromLike)
                return
            }
            if token.kind == .quotedIdentifier || (token.kind == .word && !isReserved(token)) {
                table = .afterAlias(fromLike: fromLike)
                return
            }
            table = .none
        case .afterAs(let fromLike):
            if token.kind == .word || token.kind == .quotedIdentifier {
                table = .afterAlias(fromLike: fromLike)
                return
            }
            table = .none
        case .afterAlias(let fromLike):
            if isPunctuation(token, ",") {
                table = .expectName(list: true, fromLike: fromLike)
                return
            }
            table = .none
        }
        guard token.kind == .word else { return }
        let previousWord = previous.flatMap { $0.kind == .word ? $0 : nil }
        if matches(token, "FROM") {
            let distinctFrom = previousWord.map { matches($0, "DISTINCT") } ?? false
            if inQueryScope, !distinctFrom, !(depth == 0 && operation == "COPY") {
                table = .expectName(list: true, fromLike: true)
            }
        } else if matches(token, "JOIN") {
            table = .expectName(list: true, fromLike: true)
        } else if matches(token, "INTO") {
            table = .expectName(list: false, fromLike: false)
        } else if matches(token, "UPDATE") {
            let clause = previousWord.map { matches($0, "FOR") || matches($0, "KEY") || matches($0, "DO") || matches($0, "ON") } ?? false
            if !clause { table = .expectName(list: true, fromLike: false) }
        } else if matches(token, "TABLE") || matches(token, "TRUNCATE") {
            table = .expectName(list: matches(token, "TRUNCATE"), fromLike: false)
        } else if matches(token, "COPY"), previous == nil {
            table = .expectName(list: false, fromLike: false)
        }
    }

    private mutating func record(_ range: Range<Int>) {
        guard let first = collection else {
            collection = range
            return
        }
        if !Self.sameName(bytes[first], bytes[range]) { severalCollections = true }
    }

    private func isSkippedBeforeName(_ token: SQLLexer.Token) -> Bool {
        matches(token, "ONLY") || matches(token, "IF") || matches(token, "NOT") || matches(token, "EXISTS") || matches(token, "TABLE")
            || matches(token, "LATERAL") || matches(token, "IGNORE") || matches(token, "LOW_PRIORITY") || matches(token, "DELAYED")
            || matches(token, "HIGH_PRIORITY") || matches(token, "QUICK") || matches(token, "TEMPORARY") || matches(token, "TEMP")
            || matches(token, "UNLOGGED")
    }

    private static let reservedWords: [StaticString] = [
        "SELECT", "WHERE", "SET", "VALUES", "VALUE", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL",
        "OUTER", "CROSS", "NATURAL", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "UNION", "EXCEPT",
        "INTERSECT", "WINDOW", "FOR", "RETURNING", "DEFAULT", "AS", "WITH", "FROM", "INTO", "STRAIGHT_JOIN",
        "PARTITION", "TABLESAMPLE", "FETCH", "LOCK", "USE", "FORCE", "WHEN", "THEN", "AND", "OR", "IS", "NULL",
        "LIKE", "IN", "BETWEEN", "CASE", "DUPLICATE", "SELECT", "DO", "CONFLICT", "OVERRIDING", "STDIN", "STDOUT",
    ]

    private func isReserved(_ token: SQLLexer.Token) -> Bool {
        Self.reservedWords.contains { matches(token, $0) }
    }

    // MARK: Helpers

    /// Whether a word token is `keyword`, ignoring ASCII case.
    private func matches(_ token: SQLLexer.Token, _ keyword: StaticString) -> Bool {
        guard token.range.count == keyword.utf8CodeUnitCount else { return false }
        let pointer = keyword.utf8Start
        var index = 0
        for byte in bytes[token.range] {
            guard Self.lowercased(byte) == Self.lowercased(pointer[index]) else { return false }
            index += 1
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private func isPunctuation(_ token: SQLLexer.Token, _ character: Unicode.Scalar) -> Bool {
        token.kind == .punctuation && bytes[token.range.lowerBound] == UInt8(ascii: character)
    }

    /// A keyword uppercased; nil for anything longer than 32 bytes.
    static func uppercased(_ word: ArraySlice<UInt8>) -> String? {
        guard word.count <= 32 else { return nil }
        return String(unsafeUninitializedCapacity: word.count) { buffer in
            for (index, byte) in word.enumerated() {
                buffer[index] = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 0x20 : byte
            }
            return word.count
        }
    }

    private static func isQuote(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "`")
    }

    /// Names compared without their quotes.
    private static func sameName(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        a.lazy.filter { !isQuote($0) }.elementsEqual(b.lazy.filter { !isQuote($0) })
    }

    private static func unquoted(_ name: ArraySlice<UInt8>) -> String {
        guard name.contains(where: isQuote) else { return String(decoding: name, as: UTF8.self) }
        return String(decoding: name.filter { !isQuote($0) }, as: UTF8.self)
    }
}
