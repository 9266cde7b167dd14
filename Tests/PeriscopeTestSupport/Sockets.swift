import Foundation

/// A blocking TCP client on loopback, for sending exact bytes.
public final class TCPClient {
    public let fd: Int32

    /// Throws when nothing accepts on `port`. The descriptor is closed exactly once: here when
    /// the connection fails (before `fd` is set, so `deinit` does not run), else by `deinit`.
    public init(port: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("cannot make a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("cannot connect to 127.0.0.1:\(port): \(reason)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestFailure("send failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads until `count` bytes arrived or the peer closed.
    public func receive(count: Int) throws -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while received.count < count {
            let n = recv(fd, &chunk, min(chunk.count, count - received.count), 0)
            if n == 0 { break }
            guard n > 0 else { throw TestFailure("recv failed: \(String(cString: strerror(errno)))") }
            received.append(contentsOf: chunk[..<n])
        }
        return received
    }

    /// Reads until `marker` has been seen `times` times in the stream.
    public func receive(untilSeeing marker: String, times: Int) throws -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let needle = Array(marker.utf8)
        func occurrences() -> Int {
            guard received.count >= needle.count else { return 0 }
            var found = 0
            var i = 0
            while i <= received.count - needle.count {
                if received[i..<(i + needle.count)].elementsEqual(needle) { found += 1; i += needle.count } else { i += 1 }
            }
            return found
        }
        while occurrences() < times {
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw TestFailure("connection ended after \(occurrences()) of \(times) responses") }
            received.append(contentsOf: chunk[..<n])
        }
        return String(decoding: received, as: UTF8.self)
    }
}
