import Testing
import PeriscopeCore

@Suite struct TraceContextTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parent = "00f067aa0ba902b7"

    @Test func parsesAVersionZeroHeader() throws {
        let context = try #require(TraceContext(traceparent: "00-\(Self.trace)-\(Self.parent)-01"))
        #expect(context.traceID == TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736))
        #expect(context.parentID == SpanID(value: 0x00f0_67aa_0ba9_02b7))
        #expect(context.flags == 0x01 && context.sampled)
        #expect(context.traceparent == "00-\(Self.trace)-\(Self.parent)-01")
    }

    @Test(arguments: [
        ("  00-\(trace)-\(parent)-00\t", true),
        ("00-\(trace)-\(parent)-0F", true),
        ("cc-\(trace)-\(parent)-01-what-the-future-adds", true),
        ("CC-\(trace)-\(parent)-01", true),
        ("00-\(trace)-\(parent)-01-", false),
        ("ff-\(trace)-\(parent)-01", false),
        ("00-\(trace.uppercased())-\(parent)-01", false),
        ("00-\(trace)-\(parent.uppercased())-01", false),
        ("00-00000000000000000000000000000000-\(parent)-01", false),
        ("00-\(trace)-0000000000000000-01", false),
        ("00-\(trace.dropLast())-\(parent)-01", false),
        ("00-\(trace)-\(parent)-1", false),
        ("0-\(trace)-\(parent)-01", false),
        ("00-\(trace)-\(parent)", false),
        ("00-\(trace.dropLast())g-\(parent)-01", false),
        ("00_\(trace)_\(parent)_01", false),
        ("", false),
        ("-", false),
    ])
    func acceptsOnlyWellFormedHeaders(header: String, valid: Bool) {
        #expect((TraceContext(traceparent: header) != nil) == valid)
        #expect((TraceContext(traceparent: header[...]) != nil) == valid, "a substring parses the same")
    }
}
