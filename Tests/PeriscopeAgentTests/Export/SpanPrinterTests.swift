import PeriscopeCore
import Testing
@testable import PeriscopeAgent
#if canImport(Glibc)
import Glibc
#endif

/// The printer gathers spans into large writes: a capture batch's `flush()` writes only once
/// its spans have waited the delay, a full buffer is written at once (to a file, up to a
/// boundary of the file), and `finish()` writes everything. What it writes is each span's
/// line, in order.
@Suite struct SpanPrinterTests {
    /// A pipe whose read end does not block, for reading what the printer wrote so far.
    final class Pipe {
        let read: Int32
        let write: Int32

        init() throws {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0, "pipe failed")
            _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
            // Room for a whole write of the printer (F_SETPIPE_SZ, which Glibc's module does
            // not name).
            try #require(fcntl(fds[1], 1031, 1 << 20) >= 1 << 20, "F_SETPIPE_SZ failed")
            (read, write) = (fds[0], fds[1])
        }

        deinit {
            close(read)
            close(write)
        }

        /// Everything written since the last call.
        func drain() -> [UInt8] {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = Glibc.read(read, &chunk, chunk.count)
                guard count > 0 else { return bytes }
                bytes += chunk[..<count]
            }
        }
    }

    static func span(_ number: Int) -> Span {
        Span(
            traceID: TraceID(high: 1, low: UInt64(number)), spanID: SpanID(value: UInt64(number) + 1), kind: .server, name: "GET /\(number)",
            startTimeUnixNano: 1_700_000_000_000_000_000, endTimeUnixNano: 1_700_000_000_000_100_000, pid: 10, tid: 10,
            local: SocketAddress(ipv4: 127, 0, 0, 1, port: 80), peer: SocketAddress(ipv4: 127, 0, 0, 1, port: 40000)
        )
    }

    static func lines(_ range: Range<Int>) -> [UInt8] {
        range.flatMap { Array(SpanJSONFormatter.format(span($0)).utf8) + [UInt8(ascii: "\n")] }
    }

    @Test func aBatchsSpansWaitForTheDelayThenAreWrittenInOrder() throws {
        let pipe = try Pipe()
        let printer = SpanPrinter(format: .json, fd: pipe.write, delayNanos: 30_000_000)
        for number in 0..<3 { printer.emit(Self.span(number)) }
        printer.flush()
        #expect(pipe.drain().isEmpty, "written before the delay")
        printer.emit(Self.span(3))
        usleep(40_000)
        printer.flush()
        #expect(pipe.drain() == Self.lines(0..<4))
        printer.flush()
        #expect(pipe.drain().isEmpty)
    }

    @Test func withoutADelayEveryFlushWrites() throws {
        let pipe = try Pipe()
        let printer = SpanPrinter(format: .json, fd: pipe.write, delayNanos: 0)
        printer.emit(Self.span(0))
        printer.flush()
        #expect(pipe.drain() == Self.lines(0..<1))
    }

    @Test func aFullBufferIsWrittenAtOnceAndFinishWritesTheRest() throws {
        let pipe = try Pipe()
        let printer = SpanPrinter(format: .json, fd: pipe.write, delayNanos: 60_000_000_000)
        let lineLength = Self.lines(0..<1).count
        let count = SpanPrinter.writeSize / lineLength + 10
        var written: [UInt8] = []
        for number in 0..<count {
            printer.emit(Self.span(number))
            printer.flush()
            written += pipe.drain()
        }
        #expect(written.count >= SpanPrinter.writeSize, "a full buffer waited")
        #expect(written.count < SpanPrinter.writeSize + lineLength, "written before it was full")
        printer.finish()
        written += pipe.drain()
        #expect(written == Self.lines(0..<count))
    }

    /// Full writes to a file end on its `writeSize` boundaries, counted from where the file
    /// stood when the printer was made, whatever a delayed write left in between.
    @Test func fullWritesToAFileEndOnItsBoundaries() throws {
        var template = Array("/tmp/periscope-printer-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0, "mkstemp failed")
        defer {
            unlink(template)
            close(fd)
        }
        let before = [UInt8](repeating: UInt8(ascii: "#"), count: 1000)
        #expect(write(fd, before, before.count) == before.count)
        func size() -> Int { Int(lseek(fd, 0, SEEK_END)) }
        let printer = SpanPrinter(format: .json, fd: fd, delayNanos: 20_000_000)
        let count = 3 * SpanPrinter.writeSize / Self.lines(0..<1).count
        var sizes: Set<Int> = []
        for number in 0..<count {
            printer.emit(Self.span(number))
            if number == 10 {
                // A delayed write, at whatever size.
                printer.flush()
                usleep(30_000)
                printer.flush()
                #expect(size() == before.count + Self.lines(0..<11).count)
            }
            sizes.insert(size())
        }
        let full = sizes.filter { $0 > before.count + Self.lines(0..<11).count }
        #expect(full.count >= 2, "full writes made: \(full.sorted())")
        #expect(full.allSatisfy { $0 % SpanPrinter.writeSize == 0 }, "\(full.sorted())")
        printer.finish()
        lseek(fd, 0, SEEK_SET)
        var contents = [UInt8](repeating: 0, count: size())
        #expect(pread(fd, &contents, contents.count, 0) == contents.count)
        #expect(contents == before + Self.lines(0..<count))
    }
}
