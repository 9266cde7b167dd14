import Foundation

/// Writes chunked-encoding pieces to a connection; `isOpen` turns false when the peer goes away
/// or the server drops the connection.
final class ChunkWriter: @unchecked Sendable {
    let socket: BlockingSocket

    init(socket: BlockingSocket) {
        self.socket = socket
    }

    var isOpen: Bool { !socket.isClosed }

    @discardableResult
    func write(_ data: Data) -> Bool {
        var chunk = Data(String(data.count, radix: 16).utf8)
        chunk.append(contentsOf: [13, 10])
        chunk.append(data)
        chunk.append(contentsOf: [13, 10])
        return socket.write(chunk)
    }

    func finish() {
        socket.write(Data("0\r\n\r\n".utf8))
    }
}
