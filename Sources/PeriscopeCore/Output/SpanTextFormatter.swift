/// A span as one aligned, human-readable line:
///
///     2024-05-01T12:34:56.789Z     12.345ms SERVER   GET     /users/42        200 10.0.0.2:51234->10.0.0.1:8080 req=0B resp=5B pid=812 nginx trace=… span=…
///
/// Start time (UTC), duration, kind, method, path, status, `caller->callee` (the peer first
/// on server spans, the local end first on client spans), body sizes (bytes
/// each way for a TCP connection), process, ids, and why the span ended abnormally.
/// Control characters from captured bytes are shown escaped, never sent to the terminal.
public struct SpanTextFormatter: Sendable {
    /// Width the path column is padded to.
    public var pathWidth: Int

    public init(pathWidth: Int = 32) {
        self.pathWidth = pathWidth
    }

    /// The span formatted with the default settings.
    public static func format(_ span: Span) -> String {
        Self().format(span)
    }

    public func format(_ span: Span) -> String {
        var columns = [
            ISO8601Timestamp.string(unixNanos: span.startTimeUnixNano),
            padLeft(Self.milliseconds(span.durationNanos), 12),
            padRight(span.kind.rawValue, 8),
        ]
        let addresses = span.kind == .client
            ? "\(span.local.description)->\(span.peer.description)"
            : "\(span.peer.description)->\(span.local.description)"
        if let http = span.http {
            columns += [
                padRight(Self.printable(http.method), 7),
                padRight(Self.printable(http.path), pathWidth),
                padRight(http.statusCode.map(String.init) ?? "---", 3),
                padRight(addresses, 45),
                padRight("req=\(http.requestBodySize)B resp=\(http.responseBodySize)B", 24),
            ]
        } else {
            let tcp = span.tcp ?? TCPDetails(bytesSent: 0, bytesReceived: 0)
            columns += [
                padRight(Self.printable(span.name), 7),
                padRight("-", pathWidth),
                "---",
                padRight(addresses, 45),
                padRight("sent=\(tcp.bytesSent)B recv=\(tcp.bytesReceived)B", 24),
            ]
        }
        var process = "pid=\(span.pid)"
        if let executable = span.executable, let name = executable.split(separator: "/").last {
            process += " " + Self.printable(String(name))
        }
        columns.append(process)
        var ids = "trace=\(span.traceID.hex) span=\(span.spanID.hex)"
        if let parent = span.parentSpanID { ids += " parent=\(parent.hex)" }
        columns.append(ids)
        if let message = span.statusMessage {
            columns.append("(\(Self.printable(message)))")
        }
        return columns.joined(separator: " ")
    }

    /// `12.345ms`: milliseconds with three decimals.
    static func milliseconds(_ nanos: UInt64) -> String {
        let micros = nanos / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)ms"
    }

    /// The text with control characters (C0, DEL, C1) written as `\u{1b}`.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
