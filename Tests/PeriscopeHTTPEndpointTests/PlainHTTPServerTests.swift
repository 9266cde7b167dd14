import Foundation
import Logging
import PeriscopeHTTPEndpoint
import PeriscopeTestSupport
import Testing

/// The health and metrics endpoint against curl, a real HTTP client.
@Suite struct PlainHTTPServerTests {
    static func serve(_ body: @Sendable (PlainHTTPServer) async throws -> Void) async throws {
        let server = try PlainHTTPServer(name: "test", address: "127.0.0.1", port: 0, logger: Logger(label: "test")) { path in
            path == "/metrics"
                ? .init(status: "200 OK", contentType: "text/plain; version=0.0.4", body: "up 1\n")
                : .init(status: "404 Not Found", body: "no \(path)\n")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { server.requestStop() }
            try await body(server)
            server.requestStop()
            try await group.waitForAll()
        }
    }

    /// curl's output; curl runs on a thread of its own, since waiting for it would hold a thread
    /// of the pool the server needs to start.
    static func curl(_ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try run("curl", ["-s", "-g"] + arguments) }) }.start()
        }
    }

    static func exchange(port: UInt16, _ request: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let client = try TCPClient(port: port)
                    // The server's thread starts when a pool thread runs it: under load, later.
                    var timeout = timeval(tv_sec: 120, tv_usec: 0)
                    setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    try client.send(request)
                    return String(decoding: try client.receive(count: 4096), as: UTF8.self)
                })
            }.start()
        }
    }

    @Test func answersGetWithTheHandlersPageAndContentType() async throws {
        try await Self.serve { server in
            let output = try await Self.curl(["-i", "http://127.0.0.1:\(server.port)/metrics?name[]=up"])
            #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(output.contains("Content-Type: text/plain; version=0.0.4\r\n"))
            #expect(output.contains("Content-Length: 5\r\n"))
            #expect(output.hasSuffix("\r\n\r\nup 1\n"))
        }
    }

    @Test func answersHeadWithoutBodyAndRefusesOtherMethods() async throws {
        try await Self.serve { server in
            let head = try await Self.curl(["-I", "http://127.0.0.1:\(server.port)/metrics"])
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(!head.contains("up 1"))
            let post = try await Self.curl(["-i", "-X", "POST", "--data", "x", "http://127.0.0.1:\(server.port)/metrics"])
            #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
            let missing = try await Self.curl(["-i", "http://127.0.0.1:\(server.port)/nope"])
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            #expect(missing.hasSuffix("no /nope\n"))
        }
    }

    @Test func garbageGetsBadRequestAndTheServerKeepsServing() async throws {
        try await Self.serve { server in
            let answer = try await Self.exchange(port: server.port, "NONSENSE\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            let output = try await Self.curl(["http://127.0.0.1:\(server.port)/metrics"])
            #expect(output == "up 1\n")
        }
    }

    @Test func aPortInUseFailsAtInit() throws {
        let first = try PlainHTTPServer(name: "first", address: "127.0.0.1", port: 0, logger: Logger(label: "test")) { _ in
            .init(status: "200 OK", body: "")
        }
        #expect(throws: PlainHTTPServer.ListenError.self) {
            _ = try PlainHTTPServer(name: "second", address: "127.0.0.1", port: first.port, logger: Logger(label: "test")) { _ in
                .init(status: "200 OK", body: "")
            }
        }
        #expect(throws: PlainHTTPServer.ListenError.self) {
            _ = try PlainHTTPServer(name: "third", address: "not-an-address", port: 0, logger: Logger(label: "test")) { _ in
                .init(status: "200 OK", body: "")
            }
        }
    }
}
