import FoundationEssentials
import Logging
import PeriscopeSystem
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small plain-HTTP/1.1 endpoint for health and metrics pages: GET and HEAD only, one
/// connection at a time, served from a thread of its own (an operator's probe or scraper, not
/// traffic). The socket is opened by `init`, so a port in use fails at start.
public final class PlainHTTPServer: Service, Sendable {
    /// Why the socket could not be opened.
    public struct ListenError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// A response: status line text (`200 OK`), content type and body.
    public struct Response: Sendable {
        public var status: String
        public var contentType: String
        public var body: String

        public init(status: String, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// The bound port (the chosen one when 0 was asked for).
    public let port: UInt16
    private let fd: Int32
    private let handler: @Sendable (String) -> Response
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let name: String

    /// - Parameters:
    ///   - name: what is served, for errors, logs and the thread name (`health`, `metrics`).
    ///   - handler: gets the path without query and answers it.
    public init(
        name: String, address: String, port: UInt16, logger: Logger, handler: @escaping @Sendable (String) -> Response
    ) throws(ListenError) {
        self.name = name
        self.handler = handler
        self.logger = logger
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            throw ListenError(message: "\(name) address \(address) is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(message: "\(name) socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ListenError(message: "cannot listen on \(address):\(port) for \(name): \(reason)")
        }
        self.fd = fd
        self.port = UInt16(bigEndian: socketAddress.sin_port)
    }

    deinit { close(fd) }

    /// Asks the thread to finish; `run()` returns once it has.
    public func requestStop() { stopping.store(true, ordering: .releasing) }

    public func run() async throws {
        logger.info("http.listening", metadata: ["http.serves": "\(name)", "http.port": "\(port)"])
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await DedicatedThread.run(name: "periscope-\(name)") { [self] in serve() }
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
        while request.count < 16384, !Self.contains(request, end) {
            let count = System.retryingInterrupted { recv(client, &chunk, chunk.count, 0) }
            guard count > 0 else { return }
            request += chunk[..<count]
        }
        let line = request.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let parts = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        let response: Response
        if parts.count != 3 {
            response = Response(status: "400 Bad Request", body: "bad request\n")
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            response = Response(status: "405 Method Not Allowed", body: "only GET\n")
        } else {
            response = handler(String(parts[1].split(separator: "?", maxSplits: 1).first ?? ""))
        }
        let payload = Array(response.body.utf8)
        var bytes = Array(
            "HTTP/1.1 \(response.status)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8)
        if parts.first != "HEAD" { bytes += payload }
        System.sendAll(client, bytes)
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
