import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A connected socket with blocking reads and writes. `shutdown()` may be called from any thread.
final class BlockingSocket: @unchecked Sendable {
    let descriptor: Int32
    private let lock = NSLock()
    private var closed = false
    private var released = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    var isClosed: Bool { lock.withLock { closed } }

    func read(into buffer: inout [UInt8]) -> Int {
        var scratch = [UInt8](repeating: 0, count: 65536)
        let count = scratch.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 { buffer.append(contentsOf: scratch[0..<count]) }
        return count
    }

    @discardableResult
    func write(_ data: Data) -> Bool {
        if isClosed { return false }
        return data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let written = send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }

    /// Drops the connection abruptly: the peer sees it end mid-response.
    func shutdown() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
        }
    }

    /// Releases the descriptor, once: a second call does nothing, so it can never close a
    /// number another thread has been given since.
    func close() {
        lock.withLock {
            if !closed { Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }
            closed = true
            guard !released else { return }
            released = true
            Glibc.close(descriptor)
        }
    }
}
