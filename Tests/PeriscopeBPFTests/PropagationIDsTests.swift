import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// The ids the kernel draws for the requests it writes `traceparent` into (next_random in
/// bpf/include/periscope_server_context.h): each one new, and every bit of them set about half
/// the time, as uniformly random ids are (W3C asks for random trace ids).
@Suite(.serialized) struct PropagationIDsTests {
    @Test func theIdsOfInjectedRequestsAreDistinctAndTheirBitsBalanced() throws {
        let (tracer, propagation) = try PropagationSockhashTests.tracingThisProcess()
        defer { tracer.detach() }
        let listener = try Listener()
        let client = try TCPClient(port: listener.port)
        let requests = 256
        for index in 0..<requests {
            try client.send("GET /id/\(index) HTTP/1.1\r\nHost: localhost\r\n\r\n")
        }
        var contexts: [KernelTraceContext] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while contexts.count < requests, ContinuousClock.now < deadline {
            try tracer.poll(timeoutMilliseconds: 50) { record in
                guard let event = try? CaptureEvent(record: record), event.kind == .data(.egress),
                      event.pid == getpid(), let context = event.kernelContext, context.origin == .injectedRequest
                else { return }
                contexts.append(context)
            }
        }
        #expect(propagation.counters().headersInjected == UInt64(requests))
        try #require(contexts.count == requests)
        #expect(Set(contexts.map(\.traceID)).count == requests)
        #expect(Set(contexts.map(\.spanID)).count == requests)
        // Each of the 192 bits is set in 128 of 256 ids on average; outside [80, 176] is a
        // chance below 1e-9 for a uniform bit.
        let words = contexts.map { [$0.traceID.high, $0.traceID.low, $0.spanID.value] }
        for word in 0..<3 {
            for bit in 0..<64 {
                let set = words.count { ($0[word] >> UInt64(bit)) & 1 == 1 }
                #expect((80...176).contains(set), "bit \(bit) of word \(word) set in \(set) of \(requests) ids")
            }
        }
    }
}
