import Testing
@testable import PeriscopeCore

@Suite struct HTTP1DecoderFuzzTests {
    /// Thousands of mutated and random streams, split and gapped at random: the decoder
    /// never traps, never reports a negative size, and reports nothing after an error.
    @Test func mutatedAndRandomBytesNeverBreakTheDecoder() {
        var generator = SeededGenerator(seed: 0x5eed)
        for iteration in 0..<4_000 {
            let kind: HTTP1Decoder.Kind = iteration % 2 == 0 ? .request : .response
            let corpus = kind == .request ? HTTP1Corpus.requests : HTTP1Corpus.responses
            var stream: [UInt8] = []
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                stream += HTTP1Corpus.mutated(corpus.randomElement(using: &generator) ?? "", using: &generator)
            }
            var decoder = HTTP1Decoder(kind: kind)
            decoder.pendingRequestMethods = ["GET", "HEAD", "CONNECT", "POST"].shuffled(using: &generator).map(HTTP1Method.init)
            let events = decodeAll(&decoder, HTTP1Corpus.chunks(stream, using: &generator), finish: true)
            #expect(events.bodySizes.allSatisfy { ($0 ?? 0) >= 0 })
            if let error = events.firstIndex(where: { if case .error = $0 { true } else { false } }) {
                #expect(error == events.count - 1, "iteration \(iteration): events after an error")
            }
            for head in events.heads {
                #expect(head.contentLength.map { $0 >= 0 } ?? true)
            }
        }
    }

    /// Heads whose every line the whole-head path reads differently if it can.
    static let unusualHeads = [
        "GET /a\tb HTTP/1.1\r\nX-Tab:\tv\t\r\n folded\r\nUser-Agent:  a b \r\nHost: h\r\nhost: second\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\ncontent-length:2\r\nTransfer-Encoding: gzip\r\nTRANSFER-ENCODING: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        "GET / HTTP/1.1\nConnection: Upgrade\nUpgrade: websocket\nUpgrade: h2c\n\n",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF / HTTP/1.1\r\n\r\n",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\n\r\n",
        "GET  /two-spaces HTTP/1.1\r\n\r\n",
        "GET /x HTTP/1.1 extra\r\n\r\n",
        "GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET /x HTTP/1.1\r\nX\u{7f}: y\r\n\r\n",
        "GET /\u{e9}t\u{e9} HTTP/1.1\r\nHost: \u{e9}\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\rX: y\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\r",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\nContent-Length: 007\r\nContent-Length: 7, 7\r\n\r\n1234567",
        "GET / HTTP/1.1\r\nContent-Length: 0000000000000000001\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: \r\nHost:\r\n\r\n",
        "GET /0123456789abcdef HTTP/1.1\r\nX-Padding-To-A-Word-Edge: 0123456\r\nHost: 01234567\r\r\n\r\n",
        "GET / HTTP/1.1\nHost:\n\n",
        "GET / HTTP/1.1\r\nX:y\r\nHost:h\r\n\n",
        "GET /a HTTP/1.1\r\nServer: s\r\nDate: d\r\nContent-Type: t\r\nContent-Typo: u\r\nAccept: */*\r\n\r\n",
        "get /lower HTTP/1.1\r\n\r\n",
        "PROPFIND /eight-letters HTTP/1.1\r\n\r\n",
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n",
        "GET /a\rb HTTP/1.1\r\n\r\n",
        "GET /\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9} HTTP/1.1\r\n\r\n",
        "GET /target HTTP/1.1 \r\n\r\n",
        "GET /target  HTTP/1.1\r\n\r\n",
        "GET /t HTTP/1.12\r\n\r\n",
        "GET /t http/1.1\r\n\r\n",
        "GET HTTP/1.1\r\n\r\n",
        "GET /\(String(repeating: "0123456789abcdef", count: 200)) HTTP/1.1\r\nHost: h\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: +5\r\nContent-Length:5\r\n\r\nabcde",
        "HTTP/1.1 200 OK with spaces\r\nConnection: close\r\nConnection: x\r\n\r\n",
        "HTTP/1.1 99 Low\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n\r\n",
    ]

    /// A head read whole where it lies gives what the same bytes give read a line at a time
    /// through the head buffer: the same events, heads and errors, whatever the bytes.
    @Test func wholeHeadsReadAsTheyDoLineByLine() {
        var generator = SeededGenerator(seed: 0x4ead)
        for iteration in 0..<3_000 {
            let kind: HTTP1Decoder.Kind = iteration % 2 == 0 ? .request : .response
            let corpus = (kind == .request ? HTTP1Corpus.requests : HTTP1Corpus.responses)
                + Self.unusualHeads.filter { $0.hasPrefix("HTTP/") == (kind == .response) }
            let text = corpus[iteration / 2 % corpus.count]
            let stream = iteration < 2 * corpus.count ? Array(text.utf8) : HTTP1Corpus.mutated(text, using: &generator)
            let methods = ["GET", "HEAD", "CONNECT", "POST"].shuffled(using: &generator).map(HTTP1Method.init)
            var whole = HTTP1Decoder(kind: kind)
            whole.pendingRequestMethods = methods
            var lineByLine = whole
            let wholeEvents = decodeAll(&whole, [(stream, 0)], finish: true)
            let lines = stream.split(separator: HTTP1Syntax.lf, omittingEmptySubsequences: false)
            let lineEvents = decodeAll(&lineByLine, lines.indices.map { index in
                (Array(lines[index]) + (index == lines.count - 1 ? [] : [HTTP1Syntax.lf]), 0)
            }, finish: true)
            #expect(wholeEvents == lineEvents, "iteration \(iteration): \(String(decoding: stream, as: UTF8.self).debugDescription)")
        }
    }

    @Test func headsStayBoundedWhateverTheInput() {
        var decoder = HTTP1Decoder(kind: .request)
        var events = decoder.decode(Array("GET /".utf8))
        for _ in 0..<100 {
            events += decoder.decode([UInt8](repeating: UInt8(ascii: "a"), count: 1024))
        }
        #expect(events.errors == [.headTooLarge])
        #expect(decoder.headBuffer.count <= HTTP1Decoder.maxHeadSize)
    }
}
