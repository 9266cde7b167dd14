/// A span as one aligned, human-readable line:
///
///     2024-05-01T12:34:56.789Z     12.345ms SERVER   GET     /users/42        200 10.0.0.2:51234->10.0.0.1:8080 req=0B resp=5B pid=812 nginx trace=… span=…
///
/// Start time (UTC), duration, kind, method, path, status, `caller->callee` (the peer first
/// on server spans, the local end first on client spans), body sizes (bytes each way for a
/// TCP connection), process, ids, and why the span ended abnormally. Control characters
/// from captured bytes are shown escaped, never sent to the terminal. Columns are padded
/// by UTF-8 length. The line is built in one byte buffer: the printer runs once per span.
public struct SpanTextFormatter: Sendable {
    /// Width the path column is padded to.
    public var pathWidth: Int
    private var timestamps = ISO8601Timestamp.SecondCache()

    public init(pathWidth: Int = 32) {
        self.pathWidth = pathWidth
    }

    /// The span formatted with the default settings.
    public static func format(_ span: Span) -> String {
        Self().format(span)
    }

    public func format(_ span: Span) -> String {
        var line: [UInt8] = []
        var formatter = self
        formatter.write(span, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// Appends the line (without a newline) to `line`; `pod` (`namespace/name`) follows the
    /// process when the span comes from a pod.
    public mutating func write(_ span: Span, into line: inout [UInt8], pod: String? = nil) {
        line.reserveCapacity(line.count + 256)
        timestamps.write(unixNanos: span.startTimeUnixNano, into: &line)
        line.append(Self.space)
        Self.padded(&line, width: 12, left: true) { Self.writeMilliseconds(span.durationNanos, into: &$0) }
        line.append(Self.space)
        Self.padded(&line, width: 8) { $0.append(contentsOf: span.kind.rawValue.utf8) }
        line.append(Self.space)
        let (caller, callee) = span.kind == .client ? (span.local, span.peer) : (span.peer, span.local)
        if let http = span.http {
            Self.padded(&line, width: 7) { Self.writePrintable(http.method, into: &$0) }
            line.append(Self.space)
            Self.padded(&line, width: pathWidth) { Self.writePrintable(http.path, into: &$0) }
            line.append(Self.space)
            Self.padded(&line, width: 3) { line in
                if let code = http.statusCode { Self.writeDecimal(UInt64(max(code, 0)), into: &line) } else {
                    line.append(contentsOf: "---".utf8)
                }
            }
            line.append(Self.space)
            Self.padded(&line, width: 45) { Self.writeAddresses(caller, callee, into: &$0) }
            line.append(Self.space)
            Self.padded(&line, width: 24) { line in
                line.append(contentsOf: "req=".utf8)
                Self.writeSize(http.requestBodySize, into: &line)
                line.append(contentsOf: "B resp=".utf8)
                Self.writeSize(http.responseBodySize, into: &line)
                line.append(UInt8(ascii: "B"))
            }
        } else {
            let tcp = span.tcp ?? TCPDetails(bytesSent: 0, bytesReceived: 0)
            Self.padded(&line, width: 7) { Self.writePrintable(span.name, into: &$0) }
            line.append(Self.space)
            Self.padded(&line, width: pathWidth) { $0.append(UInt8(ascii: "-")) }
            line.append(contentsOf: " --- ".utf8)
            Self.padded(&line, width: 45) { Self.writeAddresses(caller, callee, into: &$0) }
            line.append(Self.space)
            Self.padded(&line, width: 24) { line in
                line.append(contentsOf: "sent=".utf8)
                Self.writeDecimal(UInt64(max(tcp.bytesSent, 0)), into: &line)
                line.append(contentsOf: "B recv=".utf8)
                Self.writeDecimal(UInt64(max(tcp.bytesReceived, 0)), into: &line)
                line.append(UInt8(ascii: "B"))
            }
        }
        line.append(contentsOf: " pid=".utf8)
        Self.writeDecimal(UInt64(max(span.pid, 0)), into: &line)
        if let executable = span.executable {
            let name = executable.utf8.lastIndex(of: UInt8(ascii: "/")).map { executable[executable.index(after: $0)...] } ?? executable[...]
            if !name.isEmpty {
                line.append(Self.space)
                Self.writePrintable(name, into: &line)
            }
        }
        if let pod {
            line.append(contentsOf: " pod=".utf8)
            Self.writePrintable(pod, into: &line)
        }
        line.append(contentsOf: " trace=".utf8)
        span.traceID.writeHex(into: &line)
        line.append(contentsOf: " span=".utf8)
        span.spanID.writeHex(into: &line)
        if let parent = span.parentSpanID {
            line.append(contentsOf: " parent=".utf8)
            parent.writeHex(into: &line)
        }
        if let message = span.statusMessage {
            line.append(contentsOf: " (".utf8)
            Self.writePrintable(message, into: &line)
            line.append(UInt8(ascii: ")"))
        }
    }

    private static let space = UInt8(ascii: " ")

    /// Writes a column with `body`, then pads it with spaces to `width` bytes (on the left
    /// when `left`).
    private static func padded(_ line: inout [UInt8], width: Int, left: Bool = false, _ body: (inout [UInt8]) -> Void) {
        let start = line.count
        body(&line)
        let written = line.count - start
        guard written < width else { return }
        let padding = repeatElement(space, count: width - written)
        if left {
            line.insert(contentsOf: padding, at: start)
        } else {
            line.append(contentsOf: padding)
        }
    }

    private static func writeAddresses(_ from: SocketAddress, _ to: SocketAddress, into line: inout [UInt8]) {
        from.write(into: &line)
        line.append(contentsOf: "->".utf8)
        to.write(into: &line)
    }

    /// A body size, `?` when unknown.
    static func writeSize(_ size: Int?, into line: inout [UInt8]) {
        if let size { writeDecimal(UInt64(max(size, 0)), into: &line) } else { line.append(UInt8(ascii: "?")) }
    }

    static func writeDecimal(_ value: UInt64, minimumDigits: Int = 1, into line: inout [UInt8]) {
        // Least significant digit first, then turned around in place: no buffer of its own.
        let start = line.count
        var rest = value
        repeat {
            line.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while line.count - start < minimumDigits { line.append(UInt8(ascii: "0")) }
        line[start...].reverse()
    }

    private static func writeMilliseconds(_ nanos: UInt64, into line: inout [UInt8]) {
        let micros = nanos / 1000
        writeDecimal(micros / 1000, into: &line)
        line.append(UInt8(ascii: "."))
        writeDecimal(micros % 1000, minimumDigits: 3, into: &line)
        line.append(contentsOf: "ms".utf8)
    }

    /// `12.345ms`: milliseconds with three decimals.
    static func milliseconds(_ nanos: UInt64) -> String {
        var line: [UInt8] = []
        writeMilliseconds(nanos, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// The text with control characters (C0, DEL, C1) written as `\u{1b}`.
    static func printable(_ text: String) -> String {
        var line: [UInt8] = []
        writePrintable(text, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    private static func writePrintable<S: StringProtocol>(_ text: S, into line: inout [UInt8]) {
        // Fast path: printable ASCII, the usual case for methods and paths.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            line.append(contentsOf: text.utf8)
            return
        }
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) {
                line.append(contentsOf: "\\u{".utf8)
                line.append(contentsOf: String(scalar.value, radix: 16).utf8)
                line.append(UInt8(ascii: "}"))
            } else {
                line.append(contentsOf: String(scalar).utf8)
            }
        }
    }
}
