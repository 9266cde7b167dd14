import Testing
@testable import PeriscopeCore

@Suite struct ConnectionAttributeBlocksTests {
    /// Both ends of one connection, one span after another: each finds its block after the
    /// first, even when both hash to the same pair of slots.
    @Test func bothEndsOfAConnectionKeepTheirBlocks() {
        var blocks = ConnectionAttributeBlocks()
        let client = SocketAddress(ipv4: 127, 0, 0, 1, port: 40000)
        let server = SocketAddress(ipv4: 127, 0, 0, 1, port: 18700)
        var spans: [Span] = []
        for (kind, local, peer, pid) in [(Span.Kind.client, client, server, Int32(1000)), (.server, server, client, 2000)] {
            spans.append(Span(
                traceID: TraceID(high: 1, low: 2), spanID: SpanID(value: 3), kind: kind, name: "GET /", startTimeUnixNano: 1,
                endTimeUnixNano: 2, pid: pid, tid: pid, local: local, peer: peer
            ))
        }
        let block: [UInt8] = Array("\"network.peer.port\":1".utf8)
        var found = 0
        for round in 0..<3 {
            for span in spans {
                let set = 0  // the same pair for both
                if blocks.withBlock(for: span, set: set, { #expect(Array($0) == block) }) {
                    found += 1
                } else {
                    #expect(round == 0)
                    block.withUnsafeBufferPointer { blocks.keep($0, for: span, set: set) }
                }
            }
        }
        #expect(found == 4)
    }
}
