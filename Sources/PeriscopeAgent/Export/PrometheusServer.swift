import Foundation
import Logging
import PeriscopeCore
import ServiceLifecycle
import Synchronization

/// `GET /metrics` in the Prometheus text format, on a plain HTTP/1.1 socket served
/// one connection at a time from a thread of its own. Anything else gets 404 or 405.
/// The socket is opened by `init`, so a port in use fails at start.
public final class PrometheusServer: Service, Sendable {
    public let port: UInt16
    private let fd: Int32
    private let render: @Sendable () -> String
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    /// - Parameter render: the page, built on each scrape.
    public init(configuration: ExportConfiguration.Prometheus, logger: Logger, render: @escaping @Sendable () -> String) throws(ExportError) {
        self.render = render
        self.logger = logger
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = configuration.port.bigEndian
        guard inet_pton(AF_INET, configuration.address, &address.sin_addr) == 1 else {
            throw ExportError(code: .listen, message: "metrics address \(configuration.address) is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ExportError(code: .listen, message: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ExportError(code: .listen, message: "cannot listen on \(configuration.address):\(configuration.port) for /metrics: \(reason)")
        }
        self.fd = fd
        self.port = configuration.port
    }

    deinit { close(fd) }

    /// Asks the thread to finish; `run()` returns once it has.
    public func requestStop() { stopping.store(true, ordering: .releasing) }

    public func run() async throws {
        logger.info("metrics.listening", metadata: ["port": "\(port)", "path": "/metrics"])
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let thread = Thread { [self] in
                        serve()
                        continuation.resume()
                    }
                    thread.name = "periscope-metrics"
                    thread.start()
                }
            } onCancel: {
                self.requestStop()
            }
        } onGracefulShutdown: {
            self.requestStop()
        }
    }

    private func serve() {
        while !stopping.load(ordering: .acquiring) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while request.count < 16384, !request.ends(with: end), !request.contains(end) {
            let count = recv(client, &chunk, chunk.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            request += chunk[..<count]
        }
        let line = request.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let parts = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        let status: String
        var body = ""
        var contentType = "text/plain; charset=utf-8"
        if parts.count != 3 {
            status = "400 Bad Request"
            body = "bad request\n"
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            status = "405 Method Not Allowed"
            body = "only GET\n"
        } else if parts[1].split(separator: "?", maxSplits: 1).first != "/metrics" {
            status = "404 Not Found"
            body = "metrics are at /metrics\n"
        } else {
            status = "200 OK"
            body = render()
            contentType = PrometheusTextFormatter.contentType
        }
        let payload = Array(body.utf8)
        var response = Array((
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(payload.count)\r\n"
            + "Connection: close\r\n\r\n"
        ).utf8)
        if parts.first != "HEAD" { response += payload }
        var offset = 0
        while offset < response.count {
            let sent = response[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return }
            offset += sent
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }

    fileprivate func contains(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
