import PeriscopeCore
import Testing
@testable import PeriscopeAgent

/// Every sink gets every call, in the order the sinks were given.
@Suite struct SpanFanOutTests {
    final class Recorder: SpanSink {
        let name: String
        let log: Log

        final class Log {
            var calls: [String] = []
        }

        init(_ name: String, log: Log) {
            self.name = name
            self.log = log
        }

        func observe(_ span: Span) { log.calls.append("\(name).observe \(span.name)") }
        func emit(_ span: Span) { log.calls.append("\(name).emit \(span.name)") }
        func flush() { log.calls.append("\(name).flush") }
        func finish() { log.calls.append("\(name).finish") }
    }

    static func span(_ name: String) -> Span {
        Span(
            traceID: TraceID(high: 1, low: 2), spanID: SpanID(value: 3), kind: .server, name: name, startTimeUnixNano: 1,
            endTimeUnixNano: 2, pid: 10, tid: 10, local: SocketAddress(ipv4: 127, 0, 0, 1, port: 80), peer: SocketAddress(ipv4: 127, 0, 0, 1, port: 40000)
        )
    }

    @Test(arguments: [0, 1, 2, 3])
    func handsEachCallToEverySinkInOrder(sinkCount: Int) {
        let log = Recorder.Log()
        let fanOut = SpanFanOut((0..<sinkCount).map { Recorder("s\($0)", log: log) })
        fanOut.observe(Self.span("GET"))
        fanOut.emit(Self.span("GET"))
        fanOut.flush()
        fanOut.finish()
        let names = (0..<sinkCount).map { "s\($0)" }
        #expect(
            log.calls == names.map { "\($0).observe GET" } + names.map { "\($0).emit GET" } + names.map { "\($0).flush" }
                + names.map { "\($0).finish" }
        )
    }
}
