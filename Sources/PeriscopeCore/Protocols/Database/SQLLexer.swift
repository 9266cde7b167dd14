/// Splits SQL text into tokens in place, the way PostgreSQL or MySQL/MariaDB read it:
/// string, numeric, hex and bit literals, quoted identifiers, placeholders, comments. Never
/// fails: text cut anywhere (a statement truncated by capture) ends in a last token, an
/// unterminated literal being still a literal.
struct SQLLexer {
    enum Dialect: Sendable, Equatable {
        /// `"…"` are identifiers, `$1` placeholders, `$tag$…$tag$` strings, `E'…'` escapes,
        /// nested block comments.
        case postgresql
        /// `"…"` are strings, `` `…` `` identifiers, backslash escapes in strings, `#`
        /// comments, `/*! … */` comments holding SQL.
        case mysql
    }

    enum Kind: Equatable {
        case word
        case quotedIdentifier
        case literal
        case placeholder
        case punctuation
        /// Whitespace or a comment.
        case space
    }

    struct Token: Equatable {
        var kind: Kind
        var range: Range<Int>
    }

    let bytes: ArraySlice<UInt8>
    let dialect: Dialect
    var position: Int
    /// Inside a MySQL `/*! … */` comment, whose contents are SQL.
    var inExecutableComment = false

    init(_ bytes: ArraySlice<UInt8>, dialect: Dialect) {
        self.bytes = bytes
        self.dialect = dialect
        position = bytes.startIndex
    }

    mutating func next() -> Token? {
        guard position < bytes.endIndex else { return nil }
        let start = position
        let byte = bytes[position]
        let kind: Kind
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
            while position < bytes.endIndex, Self.isSpace(bytes[position]) { position += 1 }
            kind = .space
        case UInt8(ascii: "-") where peek(1) == UInt8(ascii: "-") && (dialect == .postgresql || peek(2).map(Self.isSpaceOrControl) ?? true):
            skipLine()
            kind = .space
        case UInt8(ascii: "#") where dialect == .mysql:
            skipLine()
            kind = .space
        case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
            if dialect == .mysql, peek(2) == UInt8(ascii: "!") {
                position += 3
                while position < bytes.endIndex, Self.isDigit(bytes[position]) { position += 1 }
                inExecutableComment = true
            } else {
                skipBlockComment()
            }
            kind = .space
        case UInt8(ascii: "*") where inExecutableComment && peek(1) == UInt8(ascii: "/"):
            position += 2
            inExecutableComment = false
            kind = .space
        case UInt8(ascii: "'"):
            position += 1
            skipQuoted(UInt8(ascii: "'"), backslashEscapes: dialect == .mysql)
            kind = .literal
        case UInt8(ascii: "\""):
            position += 1
            skipQuoted(UInt8(ascii: "\""), backslashEscapes: dialect == .mysql)
            kind = dialect == .mysql ? .literal : .quotedIdentifier
        case UInt8(ascii: "`") where dialect == .mysql:
            position += 1
            skipQuoted(UInt8(ascii: "`"), backslashEscapes: false)
            kind = .quotedIdentifier
        case UInt8(ascii: "$") where dialect == .postgresql:
            kind = lexDollar()
        case UInt8(ascii: "?"):
            position += 1
            kind = .placeholder
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            lexNumber()
            kind = .literal
        case UInt8(ascii: ".") where peek(1).map(Self.isDigit) ?? false:
            lexNumber()
            kind = .literal
        default:
            if Self.isWordStart(byte) {
                kind = lexWord()
            } else {
                position += 1
                kind = .punctuation
            }
        }
        return Token(kind: kind, range: start..<position)
    }

    private func peek(_ offset: Int) -> UInt8? {
        position + offset < bytes.endIndex ? bytes[position + offset] : nil
    }

    private mutating func skipLine() {
        while position < bytes.endIndex, bytes[position] != 0x0A { position += 1 }
    }

    private mutating func skipBlockComment() {
        position += 2
        var depth = 1
        while position < bytes.endIndex {
            if bytes[position] == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                position += 2
                depth -= 1
                if depth == 0 { return }
            } else if dialect == .postgresql, bytes[position] == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                position += 2
                depth += 1
            } else {
                position += 1
            }
        }
    }

    /// From just after an opening `quote` to just after its closing one (or the end).
    private mutating func skipQuoted(_ quote: UInt8, backslashEscapes: Bool) {
        while position < bytes.endIndex {
            let byte = bytes[position]
            if backslashEscapes, byte == UInt8(ascii: "\\") {
                position = min(position + 2, bytes.endIndex)
            } else if byte == quote {
                position += 1
                guard position < bytes.endIndex, bytes[position] == quote else { return }
                position += 1
            } else {
                position += 1
            }
        }
    }

    /// `$1` placeholders and `$tag$…$tag$` strings; a lone `$` is punctuation.
    private mutating func lexDollar() -> Kind {
        let start = position
        position += 1
        if let next = peek(0), Self.isDigit(next) {
            while position < bytes.endIndex, Self.isDigit(bytes[position]) { position += 1 }
            return .placeholder
        }
        // A tag: empty or an identifier, then `$`.
        var cursor = position
        if cursor < bytes.endIndex, Self.isWordStart(bytes[cursor]) {
            while cursor < bytes.endIndex, Self.isIdentifierByte(bytes[cursor]), bytes[cursor] != UInt8(ascii: "$") { cursor += 1 }
        }
        guard cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: "$") else { return .punctuation }
        let tag = bytes[start...cursor]
        position = cursor + 1
        while position < bytes.endIndex {
            if bytes[position] == UInt8(ascii: "$"), bytes.endIndex - position >= tag.count,
               bytes[position..<(position + tag.count)].elementsEqual(tag) {
                position += tag.count
                return .literal
            }
            position += 1
        }
        return .literal
    }

    private mutating func lexNumber() {
        if bytes[position] == UInt8(ascii: "0"), let marker = peek(1),
           marker | 0x20 == UInt8(ascii: "x") || marker | 0x20 == UInt8(ascii: "b") || marker | 0x20 == UInt8(ascii: "o") {
            position += 2
            while position < bytes.endIndex, Self.isHexDigit(bytes[position]) || bytes[position] == UInt8(ascii: "_") { position += 1 }
            return
        }
        while position < bytes.endIndex, Self.isDigit(bytes[position]) || bytes[position] == UInt8(ascii: "_") { position += 1 }
        if position < bytes.endIndex, bytes[position] == UInt8(ascii: "."), peek(1) != UInt8(ascii: ".") {
            position += 1
            while position < bytes.endIndex, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.endIndex, bytes[position] | 0x20 == UInt8(ascii: "e") {
            var cursor = position + 1
            if cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: "+") || bytes[cursor] == UInt8(ascii: "-") { cursor += 1 }
            if cursor < bytes.endIndex, Self.isDigit(bytes[cursor]) {
                position = cursor
                while position < bytes.endIndex, Self.isDigit(bytes[position]) { position += 1 }
            }
        }
    }

    /// A keyword or identifier, or a prefixed string literal (`E'…'`, `X'…'`, `B'…'`,
    /// `N'…'`, `U&'…'`, MySQL `_charset'…'`).
    private mutating func lexWord() -> Kind {
        let start = position
        while position < bytes.endIndex, Self.isIdentifierByte(bytes[position]) { position += 1 }
        guard position < bytes.endIndex else { return .word }
        let length = position - start
        let first = bytes[start] | 0x20
        if bytes[position] == UInt8(ascii: "'") {
            let prefixed = length == 1
                && (first == UInt8(ascii: "e") || first == UInt8(ascii: "x") || first == UInt8(ascii: "b") || first == UInt8(ascii: "n"))
            let introducer = dialect == .mysql && bytes[start] == UInt8(ascii: "_")
            if prefixed || introducer {
                position += 1
                skipQuoted(UInt8(ascii: "'"), backslashEscapes: dialect == .mysql || first == UInt8(ascii: "e"))
                return .literal
            }
        }
        if dialect == .postgresql, length == 1, first == UInt8(ascii: "u"), bytes[position] == UInt8(ascii: "&"),
           peek(1) == UInt8(ascii: "'") {
            position += 2
            skipQuoted(UInt8(ascii: "'"), backslashEscapes: false)
            return .literal
        }
        return .word
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    static func isSpaceOrControl(_ byte: UInt8) -> Bool {
        byte <= 0x20
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    static func isWordStart(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isWordStart(byte) || isDigit(byte) || byte == UInt8(ascii: "$")
    }
}
