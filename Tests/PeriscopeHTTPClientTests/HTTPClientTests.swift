import Foundation
import PeriscopeHTTPClient
import PeriscopeKube
import PeriscopeKubeTestServer
import Testing

@Suite struct HTTPClientTests {
    static func server() throws -> TestAPIServer {
        let server = try TestAPIServer()
        try server.start()
        return server
    }

    @Test func reusesOneConnectionForSuccessiveRequests() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = HTTPClient()
        for _ in 0..<10 {
            let response = try await client.send(HTTPClientRequest(method: "GET", url: "\(server.url)/version", timeout: .seconds(10)))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self).contains("gitVersion"))
        }
        #expect(client.connectionsOpened == 1)
        #expect(server.connectionsAccepted == 1)
    }

    /// HTTP/2 where a TLS server offers it (haproxy with ALPN h2, as real API servers), HTTP/1.1
    /// in cleartext; either way one connection for every request.
    @Test func speaksHTTP2WhereTheServerOffersIt() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let proxy = try TLSProxy(upstreamPort: server.port, http2: true)
        defer { proxy.stop() }
        let client = HTTPClient(configuration: .init(certificateAuthority: .data(proxy.caData)))
        var versions: Set<String> = []
        for _ in 0..<5 {
            let head = try client.perform(HTTPClientRequest(method: "GET", url: "\(proxy.url)/version", timeout: .seconds(10)))
            #expect(head.status == 200)
            versions.insert(head.version ?? "?")
        }
        #expect(versions == ["2"])
        #expect(client.connectionsOpened == 1)
        let plain = try HTTPClient().perform(HTTPClientRequest(method: "GET", url: "\(server.url)/version", timeout: .seconds(10)))
        #expect(plain.version == "1.1")
    }

    @Test func anUntrustedServerAndARefusedConnectionAreTypedErrors() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let proxy = try TLSProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        await #expect { try await HTTPClient().send(HTTPClientRequest(method: "GET", url: "\(proxy.url)/version", timeout: .seconds(5))) } throws: {
            ($0 as? HTTPClientError)?.code == .untrustedServer
        }
        await #expect { try await HTTPClient().send(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:1/", timeout: .seconds(5))) } throws: {
            ($0 as? HTTPClientError)?.code == .transport
        }
    }

    /// A stream (a watch) lasts until the caller stops reading; then its transfer ends.
    @Test func droppingAStreamEndsItsTransfer() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = HTTPClient()
        let url = "\(server.url)/api/v1/namespaces?watch=1&allowWatchBookmarks=true"
        let request = HTTPClientRequest(method: "GET", url: url, headers: [("Authorization", "Bearer test-token")])
        for try await part in client.stream(request) {
            if case .head(let status, _) = part { #expect(status == 200) }
            #expect(client.transfersInFlight == 1)
            break
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while client.transfersInFlight > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(client.transfersInFlight == 0, "the transfer ended when the stream was dropped")
        // The aborted transfer's handle is reusable: the next request still works.
        let after = try await client.send(HTTPClientRequest(method: "GET", url: "\(server.url)/version", timeout: .seconds(30)))
        #expect(after.status == 200)
    }
}
