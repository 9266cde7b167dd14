import Testing
@testable import PeriscopeCore

/// The parts of head parsing that read eight bytes at a time answer what reading a byte at
/// a time answers, for every byte at every position.
@Suite struct HTTP1WordScanTests {
    /// Bytes worth trying in every place: each class's edges, letters of both cases, the
    /// bytes that differ from a letter or `-` only by 0x20, and obs-text.
    static let probes: [UInt8] = [
        0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x21, 0x22, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x39, 0x3a, 0x3b, 0x40,
        0x41, 0x46, 0x47, 0x5a, 0x5b, 0x5f, 0x60, 0x61, 0x66, 0x67, 0x7a, 0x7b, 0x7e, 0x7f, 0x80, 0xad, 0xc1, 0xe1, 0xff,
    ]

    @Test func laneClassesAreThoseOfEachByte() {
        var generator = SeededGenerator(seed: 0x1a9e)
        for round in 0..<20_000 {
            // Mostly bytes near the classes' edges, some of any value.
            var bytes = (0..<8).map { _ in Self.probes.randomElement(using: &generator)! }
            if round % 4 == 0 { bytes[Int.random(in: 0..<8, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            func mask(_ test: (UInt8) -> Bool) -> UInt64 {
                bytes.enumerated().reduce(0) { $0 | (test($1.element) ? UInt64(0x80) << UInt64($1.offset * 8) : 0) }
            }
            let target = bytes[round % 8]
            #expect(HTTP1Syntax.lanes(of: word, equalTo: target) == mask { $0 == target }, "\(bytes)")
            #expect(HTTP1Syntax.lanesBelowSpace(word) == mask { $0 < 0x20 }, "\(bytes)")
            let nameBytes = mask { HTTP1Syntax.isToken($0) && ($0 == UInt8(ascii: "-") || $0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) }
            #expect(HTTP1Syntax.lanesOfNameBytes(word) == nameBytes, "\(bytes)")
            #expect(HTTP1Syntax.lanesOfCapitals(word) == mask { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }, "\(bytes)")
        }
    }

    /// The name's end found a word at a time is the first non-token byte, when it is a colon.
    @Test func nameColonIsTheFirstByteNotAToken() {
        var generator = SeededGenerator(seed: 0xc01a)
        let names = ["Host", "content-length", "X-Forwarded-For", "a", "traceparent", "Sec-WebSocket-Key1", "x_y~z!#$%&'*+.^`|"]
        for round in 0..<20_000 {
            var line = Array(names[round % names.count].utf8) + Array(": value\r\n".utf8)
            if round >= names.count {
                line[Int.random(in: 0..<line.count, using: &generator)] = Self.probes.randomElement(using: &generator)!
            }
            let limit = round % 3 == 0 ? line.count : Int.random(in: 0...line.count, using: &generator)
            var expected: Int? = line.prefix(limit).firstIndex { !HTTP1Syntax.isToken($0) }
            if let colon = expected, colon == 0 || line[colon] != HTTP1Syntax.colon { expected = nil }
            let found = line.withUnsafeBufferPointer { HTTP1HeadParser.nameColon($0.baseAddress!, 0, limit: limit) }
            #expect(found == expected, "\(String(decoding: line, as: UTF8.self).debugDescription) limit \(limit)")
        }
    }

    /// Each name the parser reads, in any case, and nothing one byte away from it.
    @Test(arguments: HTTP1HeaderName.allCases)
    func headerNamesMatchInAnyCaseAndNothingElse(name: HTTP1HeaderName) {
        let lowercase = Array(UnsafeBufferPointer(start: name.lowercaseBytes.utf8Start, count: name.lowercaseBytes.utf8CodeUnitCount))
        var generator = SeededGenerator(seed: UInt64(lowercase.count))
        for _ in 0..<64 {
            let mixed = lowercase.map { $0 >= 0x61 && Bool.random(using: &generator) ? $0 - 0x20 : $0 }
            #expect(mixed.withUnsafeBufferPointer { HTTP1HeaderName($0.baseAddress, count: $0.count) } == name)
            #expect(HTTP1HeaderName(mixed) == name)
        }
        for position in lowercase.indices {
            for byte in UInt8.min...UInt8.max where byte | 0x20 != lowercase[position] || lowercase[position] == UInt8(ascii: "-") && byte != lowercase[position] {
                var changed = lowercase
                changed[position] = byte
                #expect(changed.withUnsafeBufferPointer { HTTP1HeaderName($0.baseAddress, count: $0.count) } == nil, "\(changed)")
            }
        }
    }

    /// A name known by its first four bytes is the one the name scan and the name's bytes
    /// give, and is found whenever they give one with a word to read.
    @Test func knownNamesAreThoseTheNameScanFinds() {
        var generator = SeededGenerator(seed: 0x6b6e)
        let names = HTTP1HeaderName.allCases.map {
            String(decoding: UnsafeBufferPointer(start: $0.lowercaseBytes.utf8Start, count: $0.lowercaseBytes.utf8CodeUnitCount), as: UTF8.self)
        } + ["Content-Type", "Connectionx", "Hostile", "Trace", "Upgrade-Insecure-Requests", "Transfer-Encodings", "Contents", "Use"]
        for round in 0..<40_000 {
            var line = names[round % names.count].utf8.map { $0 >= 0x61 && Bool.random(using: &generator) ? $0 - 0x20 : $0 }
                + Array(": value\r\n".utf8)
            for _ in 0..<(round / names.count % 3) {
                line[Int.random(in: 0..<line.count, using: &generator)] = Self.probes.randomElement(using: &generator)!
            }
            let limit = round % 3 == 0 ? Int.random(in: 0...line.count, using: &generator) : line.count
            line.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress!
                let expected = HTTP1HeadParser.nameColon(base, 0, limit: limit).flatMap { colon in
                    HTTP1HeaderName(base, count: colon).map { ($0, colon) }
                }
                let found = HTTP1HeadParser.knownName(base, 0, limit: limit)
                if let found {
                    #expect(found.0 == expected?.0 && found.1 == expected?.1, "\(line) to \(limit)")
                } else {
                    #expect(expected == nil || limit < 8, "\(line) to \(limit)")
                }
            }
        }
    }

    /// The next LF found a word at a time, or nil when a byte a head may not hold comes first.
    @Test func newlineIsTheFirstLFUnlessAForbiddenByteComesFirst() {
        var generator = SeededGenerator(seed: 0x0a0a)
        for round in 0..<20_000 {
            var bytes = Array("GET /abc HTTP/1.1\r\nHost: example.com\r\nUser-Agent: a client of many words/1.0\r\n\r\n".utf8)
            for _ in 0..<(round % 4) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = Self.probes.randomElement(using: &generator)!
            }
            let start = Int.random(in: 0...bytes.count, using: &generator)
            let limit = Int.random(in: start...bytes.count, using: &generator)
            var expected: Int?
            for index in start..<limit {
                if bytes[index] == HTTP1Syntax.lf { expected = index; break }
                if !HTTP1Syntax.isAllowedInHead(bytes[index]) { break }
            }
            let found = bytes.withUnsafeBufferPointer { HTTP1HeadParser.newline($0.baseAddress!, from: start, limit: limit) }
            #expect(found == expected, "\(bytes) from \(start) to \(limit)")
        }
    }

    /// Line ends in every lane of a word, with a CR, a tab, obs-text or a byte a head may not
    /// hold just before them or a word earlier: found as byte by byte finds them.
    @Test func lineEndsInEveryLaneAsByteByByte() {
        var generator = SeededGenerator(seed: 0x0d0a)
        let odd: [UInt8] = [HTTP1Syntax.cr, HTTP1Syntax.tab, 0x80, 0xff, 0x7f, 0x00, 0x0b, HTTP1Syntax.lf, 0x20, 0x7e]
        for round in 0..<60_000 {
            let count = Int.random(in: 1...72, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0x21...0x7e, using: &generator) }
            let lf = Int.random(in: 0..<count, using: &generator)
            bytes[lf] = HTTP1Syntax.lf
            if lf > 0, round % 4 != 0 { bytes[lf - 1] = HTTP1Syntax.cr }
            for _ in 0..<(round % 3) {
                bytes[Int.random(in: 0..<count, using: &generator)] = odd.randomElement(using: &generator)!
            }
            // A CR or another odd byte at the edge of a word or of two (the LF after it in the next).
            if round % 5 == 1, let edge = [7, 8, 15, 16, 23, 24].filter({ $0 < count }).randomElement(using: &generator) {
                bytes[edge] = round % 10 == 1 ? HTTP1Syntax.cr : odd.randomElement(using: &generator)!
            }
            let start = round % 5 == 0 ? Int.random(in: 0...count, using: &generator) : 0
            let limit = round % 7 == 0 ? Int.random(in: start...count, using: &generator) : count
            var expected: Int?
            for index in start..<limit {
                if bytes[index] == HTTP1Syntax.lf { expected = index; break }
                if !HTTP1Syntax.isAllowedInHead(bytes[index]) { break }
            }
            let found = bytes.withUnsafeBufferPointer { HTTP1HeadParser.newline($0.baseAddress!, from: start, limit: limit) }
            #expect(found == expected, "\(bytes) from \(start) to \(limit)")
        }
    }

    /// A status line read by word reads as it does byte by byte, whatever its bytes.
    @Test func statusLinesReadByWordAsByteByByte() {
        var generator = SeededGenerator(seed: 0x5747)
        let lines = ["HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 101", "HTTP/1.1 999 x", "HTTP/1.1 100 Continue"]
        for round in 0..<40_000 {
            var line = Array(lines[round % lines.count].utf8)
            for _ in 0..<(round % 3) {
                let byte = round % 6 < 3 ? Self.probes.randomElement(using: &generator)! : UInt8.random(in: 0x2f...0x3a, using: &generator)
                line[Int.random(in: 0..<line.count, using: &generator)] = byte
            }
            let end = round % 4 == 0 ? line.count : Int.random(in: 0...line.count, using: &generator)
            line.withUnsafeBufferPointer { buffer in
                var byWord = HTTP1HeadFields(), byBytes = HTTP1HeadFields()
                let code = HTTP1HeadParser.statusLine(buffer.baseAddress!, 0, end, into: &byWord)
                #expect(code == HTTP1HeadParser.statusLineByBytes(buffer.baseAddress!, 0, end, into: &byBytes), "\(line) to \(end)")
                #expect(byWord == byBytes, "\(line) to \(end)")
            }
        }
    }

    /// A request line read by word reads as it does byte by byte, whatever its bytes, and
    /// the usual ones are read by word.
    @Test func requestLinesReadByWordAsByteByByte() {
        var generator = SeededGenerator(seed: 0x7e9a)
        let lines = [
            "GET / HTTP/1.1", "POST /a/b?c=d HTTP/1.0", "OPTIONS * HTTP/1.1", "DELETE /users/42 HTTP/1.1", "CONNECT h:443 HTTP/1.1",
            "PROPFIND /dav HTTP/1.1", "M-SEARCH * HTTP/1.1", "get / HTTP/1.1", "A B HTTP/1.1", "GET /0123456 HTTP/1.1",
            "GET /a-long-target/of/many/words/and?a=query&b=more HTTP/1.1", "PATCH /\u{e9}t\u{e9} HTTP/1.1", "HEAD /x\ty HTTP/1.1",
        ]
        let spaces: [UInt8] = [HTTP1Syntax.space, HTTP1Syntax.tab, HTTP1Syntax.cr, 0x21, 0x1f, 0x41, 0x61, 0x5a, 0x80, 0xff]
        var readByWord = 0
        for round in 0..<60_000 {
            var line = Array(lines[round % lines.count].utf8)
            for _ in 0..<(round / lines.count % 3) {
                let byte = round % 2 == 0 ? Self.probes.randomElement(using: &generator)! : spaces.randomElement(using: &generator)!
                line[Int.random(in: 0..<line.count, using: &generator)] = byte
            }
            if round % 11 == 0 { line.insert(HTTP1Syntax.space, at: Int.random(in: 0...line.count, using: &generator)) }
            let start = round % 5 == 0 ? Int.random(in: 0...line.count, using: &generator) : 0
            let end = round % 4 == 0 ? Int.random(in: start...line.count, using: &generator) : line.count
            // Only the line's bytes, so that a read beyond them would show (under the address sanitizer).
            let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(line.count, 1))
            defer { bytes.deallocate() }
            _ = bytes.initialize(from: line)
            let base = UnsafePointer(bytes.baseAddress!)
            var byWord = HTTP1HeadFields(), byBytes = HTTP1HeadFields(), either = HTTP1HeadFields()
            let word = HTTP1HeadParser.usualRequestLine(base, start, end, into: &byWord)
            let byte = HTTP1HeadParser.requestLineByBytes(base, start, end, into: &byBytes)
            let parsed = HTTP1HeadParser.parseStartLine(base, start, end, kind: .request, into: &either)
            if word {
                readByWord += 1
                #expect(byte && byWord == byBytes, "\(line) \(start)..<\(end)")
            } else {
                #expect(byWord == HTTP1HeadFields(), "\(line) \(start)..<\(end)")
            }
            #expect((parsed == nil) == byte && either == byBytes, "\(line) \(start)..<\(end)")
        }
        #expect(readByWord > 5_000)
    }

    /// A method read as one number is the one whose name has the same bytes, and no other.
    @Test func methodsReadAsNumbersAreThoseOfTheirNames() {
        let names = ["GET", "PUT", "HEAD", "POST", "TRACE", "PATCH", "DELETE", "CONNECT", "OPTIONS"]
        let methods: [HTTP1Method] = [.get, .put, .head, .post, .trace, .patch, .delete, .connect, .options]
        func byBytes(_ bytes: [UInt8]) -> HTTP1Method? {
            names.firstIndex { Array($0.utf8) == bytes }.map { methods[$0] }
        }
        var generator = SeededGenerator(seed: 0x6d65)
        for round in 0..<40_000 {
            var bytes = Array(names[round % names.count].utf8)
            if round >= names.count {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = round % 2 == 0
                    ? Self.probes.randomElement(using: &generator)! : UInt8(ascii: "A") + UInt8.random(in: 0..<26, using: &generator)
                if round % 5 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            }
            let known = bytes.withUnsafeBufferPointer { HTTP1Method.known($0) }
            #expect(known == byBytes(bytes), "\(bytes)")
            // As the low lanes of a word, the way a request line read by word names it.
            if (1...7).contains(bytes.count), !bytes.contains(0) {
                let word = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                #expect(HTTP1Method.known(word: word) == byBytes(bytes), "\(bytes)")
            }
        }
    }

    /// Names of any case, split anywhere: the same span as the usual spelling whole.
    @Test(arguments: [
        "GET /a HTTP/1.1\r\nHOST: h\r\nTraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nuser-AGENT: u\r\n\r\n",
        "POST /b HTTP/1.1\r\nhost:h\r\nCONTENT-LENGTH:   2  \r\nX-Long-Header-Name-Of-Many-Words: v\r\n\r\nab",
        "POST /c HTTP/1.1\r\nHost: h\r\nTRANSFER-encoding: gzip, Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ])
    func mixedCaseNamesSplitAnywhereReadAlike(request: String) {
        let whole = HTTP1ReadInPlaceTests.decode(request, HTTP1ReadInPlaceTests.response)
        let operation = whole.operations.first
        #expect(operation?.http?.host == "h")
        #expect(operation?.http?.requestBodySize == 2 || !request.hasPrefix("POST"))
        for split in 1..<request.utf8.count {
            #expect(HTTP1ReadInPlaceTests.decode(request, HTTP1ReadInPlaceTests.response, split: split) == whole, "split at \(split)")
        }
    }
}
