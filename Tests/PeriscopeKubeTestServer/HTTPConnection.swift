import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request as received.
struct HTTPRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    /// Lower-case names.
    var headers: [String: String]
    var body: Data
}

/// What a handler answers: a whole body, or a stream written by the handler itself.
enum HTTPReply {
    case full(status: Int, headers: [String: String], body: Data)
    case stream(status: Int, headers: [String: String], writer: (ChunkWriter) -> Void)
}

/// Reads requests from one connection and writes replies, keeping the connection alive.
struct HTTPConnection {
    let socket: BlockingSocket
    let handler: (HTTPRequest) -> HTTPReply

    func serve() {
        var buffer: [UInt8] = []
        while let request = readRequest(&buffer) {
            let keepAlive = request.headers["connection"]?.lowercased() != "close"
            switch handler(request) {
            case .full(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
                for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
                head += "Content-Length: \(body.count)\r\n"
                head += keepAlive ? "\r\n" : "Connection: close\r\n\r\n"
                var data = Data(head.utf8)
                if request.method != "HEAD" { data.append(body) }
                if !socket.write(data) { return }
            case .stream(let status, let headers, let writer):
                var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
                for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
                head += "Transfer-Encoding: chunked\r\n\r\n"
                guard socket.write(Data(head.utf8)) else { return }
                writer(ChunkWriter(socket: socket))
            }
            if !keepAlive || socket.isClosed { return }
        }
    }

    private func readRequest(_ buffer: inout [UInt8]) -> HTTPRequest? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = Self.find(separator, in: buffer)
            if headerEnd == nil, socket.read(into: &buffer) <= 0 { return nil }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        buffer.removeFirst(headerEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data()
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                var lineEnd = Self.find([13, 10], in: buffer)
                while lineEnd == nil {
                    if socket.read(into: &buffer) <= 0 { return nil }
                    lineEnd = Self.find([13, 10], in: buffer)
                }
                let size = Int(String(decoding: buffer[0..<lineEnd!], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
                buffer.removeFirst(lineEnd! + 2)
                while buffer.count < size + 2 {
                    if socket.read(into: &buffer) <= 0 { return nil }
                }
                body.append(contentsOf: buffer[0..<size])
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else if let length = Int(headers["content-length"] ?? "0"), length > 0 {
            while buffer.count < length {
                if socket.read(into: &buffer) <= 0 { return nil }
            }
            body = Data(buffer[0..<length])
            buffer.removeFirst(length)
        }
        let target = String(requestLine[1])
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if pathPart.count > 1 {
            for item in pathPart[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(pair[0]).removingPercentEncoding ?? String(pair[0])
                let value = pair.count > 1 ? (String(pair[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
                query[key] = value
            }
        }
        return HTTPRequest(
            method: String(requestLine[0]), path: String(pathPart[0]).removingPercentEncoding ?? String(pathPart[0]),
            query: query, headers: headers, body: body)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
