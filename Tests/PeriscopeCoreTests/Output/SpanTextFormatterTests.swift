import Testing
@testable import PeriscopeCore

@Suite struct SpanTextFormatterTests {
    @Test func formatsAnHTTPSpanAsOneAlignedLine() {
        let line = SpanTextFormatter().format(SpanFixtures.server)
        #expect(line == "2023-11-14T22:13:20.123Z     12.345ms SERVER   GET     /users/42                        200 "
            + "10.0.0.2:51234->10.0.0.1:8080                 req=0B resp=5B           pid=812 nginx "
            + "trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=b7ad6b7169203331")
    }

    /// A client span reads caller first, like a server span: local end, then the server.
    @Test func formatsATCPSpanWithBytesEachWay() {
        let line = SpanTextFormatter().format(SpanFixtures.tcp)
        #expect(line == "2023-11-14T22:13:20.000Z   2500.000ms CLIENT   tcp     -                                --- "
            + "[::1]:40000->[2001:db8::5]:5432               sent=1234B recv=56789B   pid=42 "
            + "trace=0af7651916cd43dd8448eb211c80319c span=b7ad6b7169203331")
    }

    @Test func columnsLineUpAcrossSpans() {
        let formatter = SpanTextFormatter()
        let a = formatter.format(SpanFixtures.server), b = formatter.format(SpanFixtures.tcp)
        #expect(a.firstRange(of: "10.0.0.2")?.lowerBound.utf16Offset(in: a) == b.firstRange(of: "[::1]")?.lowerBound.utf16Offset(in: b))
        #expect(a.firstRange(of: "req=")?.lowerBound.utf16Offset(in: a) == b.firstRange(of: "sent=")?.lowerBound.utf16Offset(in: b))
    }

    @Test func oneFormatterWritesEachSpansOwnSecond() {
        var formatter = SpanTextFormatter()
        var line: [UInt8] = []
        var span = SpanFixtures.server
        for nanos: UInt64 in [1_700_000_000_123_000_000, 1_700_000_000_999_000_000, 1_700_000_001_000_000_000, 1_700_000_000_500_000_000] {
            span.startTimeUnixNano = nanos
            formatter.write(span, into: &line)
            line.append(UInt8(ascii: "\n"))
        }
        let stamps = String(decoding: line, as: UTF8.self).split(separator: "\n").map { $0.prefix(24) }
        #expect(stamps == ["2023-11-14T22:13:20.123Z", "2023-11-14T22:13:20.999Z", "2023-11-14T22:13:21.000Z", "2023-11-14T22:13:20.500Z"])
    }

    @Test func namesThePodAfterTheProcess() {
        var formatter = SpanTextFormatter()
        var line: [UInt8] = []
        formatter.write(SpanFixtures.server, into: &line, pod: "shop/web-1")
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("pid=812 nginx pod=shop/web-1 trace="), "\(text)")
        #expect(PodDecoration(attributes: ["k8s.pod.name": "web-1", "k8s.namespace.name": "shop"]).qualifiedName == "shop/web-1")
        #expect(PodDecoration(attributes: ["service.name": "x"]).qualifiedName == nil)
    }

    @Test func escapesControlCharactersAndShowsTheStatusMessage() {
        let line = SpanTextFormatter().format(SpanFixtures.hostile)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
        #expect(line.contains("\\u{1b}[31m"))
        #expect(line.contains("\\u{9b}"))
        #expect(line.hasSuffix("(connection closed before the response completed)"))
    }

    @Test(arguments: [
        (UInt64(0), "1970-01-01T00:00:00.000Z"),
        (951_782_400_123_000_000, "2000-02-29T00:00:00.123Z"),
        (1_700_000_000_000_002_000, "2023-11-14T22:13:20.000Z"),
        (1_709_251_199_999_999_999, "2024-02-29T23:59:59.999Z"),
        (4_102_444_799_999_000_000, "2099-12-31T23:59:59.999Z"),
    ])
    func writesISO8601UTCWithMilliseconds(unixNanos: UInt64, expected: String) {
        #expect(ISO8601Timestamp.string(unixNanos: unixNanos) == expected)
    }

    @Test(arguments: [(UInt64(0), "0.000ms"), (999, "0.000ms"), (1_000, "0.001ms"), (12_345_678, "12.345ms"), (3_000_000_000, "3000.000ms")])
    func writesDurationsInMillisecondsWithThreeDecimals(nanos: UInt64, expected: String) {
        #expect(SpanTextFormatter.milliseconds(nanos) == expected)
    }
}
