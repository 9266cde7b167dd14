import Testing
@testable import PeriscopeCore

/// A decoder that starts on a connection's first bytes knows what its beginning set up; one
/// that joins midway (the connection was open before tracing, or requests were shed) does not.
@Suite struct ConnectionTrackerMidwayTests {
    let get = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    let reply = "$1\r\nv\r\n"

    func namespaces(opened: Bool) -> [String?] {
        let c = Connection(local: SocketAddress(ipv4: 10, 0, 0, 1, port: 40000), peer: SocketAddress(ipv4: 10, 0, 0, 2, port: 6379))
        var tracker = makeTracker(ConnectionTrackerConfiguration(protocols: [.redis]))
        let spans = tracker.run((opened ? [c.opened(.client, at: 1)] : []) + [c.write(get, at: 2), c.read(reply, at: 3), c.closed(at: 4)])
        return spans.map { span in
            span.protocolAttributes.first { $0.key == "db.namespace" }.map { attribute in
                if case .string(let value) = attribute.value { value } else { "?" }
            }
        }
    }

    @Test func redisConnectionSeenFromItsStartIsOnDatabaseZero() {
        #expect(namespaces(opened: true) == ["0"])
    }

    @Test func redisConnectionJoinedMidwayHasNoNamespace() {
        #expect(namespaces(opened: false) == [nil], "a SELECT may have gone unseen")
    }
}
