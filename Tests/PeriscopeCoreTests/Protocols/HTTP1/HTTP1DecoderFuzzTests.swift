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
            decoder.pendingRequestMethods = ["GET", "HEAD", "CONNECT", "POST"].shuffled(using: &generator)
            let events = decodeAll(&decoder, HTTP1Corpus.chunks(stream, using: &generator), finish: true)
            #expect(events.bodySizes.allSatisfy { $0 >= 0 })
            if let error = events.firstIndex(where: { if case .error = $0 { true } else { false } }) {
                #expect(error == events.count - 1, "iteration \(iteration): events after an error")
            }
            for head in events.heads {
                #expect(head.contentLength.map { $0 >= 0 } ?? true)
            }
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
