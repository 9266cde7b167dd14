import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// The payload program's sockhash (bpf/propagation.bpf.c): sock_ops puts the connections a
/// traced process opens there; one whose context goes in a TCP header option (its first message
/// is not an HTTP/1 request) is taken out again at its first segment's option callback, counted
/// (`socketsLeft`), while an HTTP/1 one stays for the `traceparent` of its next requests. The
/// test process is the traced client; whether a connection is in the sockhash is asked with
/// `adopt(socket:)`, which puts it there only when it is not.
@Suite(.serialized) struct PropagationSockhashTests {
    @Test func aConnectionCarryingTheOptionLeavesTheSockhashAtItsFirstSegment() throws {
        let (tracer, propagation) = try Self.tracingThisProcess()
        defer { tracer.detach() }
        let listener = try Listener()
        let client = try TCPClient(port: listener.port)
        #expect(!propagation.adopt(socket: client.fd), "sock_ops put the connection in the sockhash")
        #expect(propagation.counters().socketsLeft == 0)
        try client.send("PING not an HTTP/1 request\r\n")
        let counters = try Self.await(propagation) { $0.socketsLeft > 0 }
        #expect(counters.optionsWritten == 1)
        #expect(counters.socketsLeft == 1)
        #expect(propagation.adopt(socket: client.fd), "its first segment took it out of the sockhash")
    }

    @Test func anHTTP1ConnectionStaysInTheSockhash() throws {
        let (tracer, propagation) = try Self.tracingThisProcess()
        defer { tracer.detach() }
        let listener = try Listener()
        let client = try TCPClient(port: listener.port)
        try client.send("GET /stays HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let counters = try Self.await(propagation) { $0.headersInjected > 0 }
        #expect(counters.headersInjected == 1)
        #expect(counters.socketsLeft == 0 && counters.optionsWritten == 0)
        #expect(!propagation.adopt(socket: client.fd), "still in the sockhash for its next requests")
    }

    /// A tracer selecting this process and propagation enabled over it.
    static func tracingThisProcess() throws -> (Tracer, Propagation) {
        let (tracer, propagation) = try propagatingTracer()
        try tracer.apply(KernelFilter(allProcesses: false, targets: [getpid(): .selfOnly]))
        return (tracer, propagation)
    }

    /// The counters once `done` says so, or after two seconds.
    private static func await(_ propagation: Propagation, until done: (PropagationCounters) -> Bool) throws -> PropagationCounters {
        let deadline = ContinuousClock.now + .seconds(2)
        var counters = propagation.counters()
        while !done(counters), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            counters = propagation.counters()
        }
        return counters
    }
}

/// A listening TCP socket on an ephemeral loopback port; connections wait in its backlog.
final class Listener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("cannot make a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("cannot listen on loopback: \(reason)")
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}
