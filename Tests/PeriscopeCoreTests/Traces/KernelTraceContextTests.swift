import Testing
@testable import PeriscopeCore

/// Contexts the kernel decided (written as `traceparent`, or remembered for a server thread)
/// are the ones the spans are reported with, whatever the linker would have decided.
@Suite struct KernelTraceContextTests {
    static let ms: UInt64 = 1_000_000
    static let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    static let trace = TraceID(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888)

    static func context(_ origin: KernelTraceContext.Origin, span: UInt64, parent: UInt64?, sampled: Bool = true, remote: Bool = false) -> KernelTraceContext {
        KernelTraceContext(
            origin: origin, traceID: trace, spanID: SpanID(value: span), parentSpanID: parent.map(SpanID.init(value:)),
            sampled: sampled, parentIsRemote: remote
        )
    }

    /// The report comes from the same thread just before the event of its read or write.
    static func report(_ context: KernelTraceContext, on connection: Connection, at timestamp: UInt64) -> CaptureEvent {
        var event = connection.event(.traceContext(context), at: timestamp)
        event.fd = -1
        if context.origin == .injectedRequest { event.socketID = 0 }
        return event
    }

    @Test func aClientSpanCarriesTheContextTheKernelWroteIntoItsRequest() throws {
        var tracker = makeTracker()
        let client = Connection(pid: 7, fd: 5, socketID: 9, local: SocketAddress(ipv4: 10, 0, 0, 1, port: 41000), peer: SocketAddress(ipv4: 10, 0, 0, 9, port: 80))
        let injected = Self.context(.injectedRequest, span: 0xabc, parent: 0xdef)
        let spans = tracker.run([
            client.opened(.client, at: 0),
            Self.report(injected, on: client, at: 1 * Self.ms),
            client.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", at: 1 * Self.ms),
            client.read(Self.response, at: 2 * Self.ms),
        ])
        let span = try #require(spans.first { $0.kind == .client })
        #expect(span.traceID == Self.trace && span.spanID == SpanID(value: 0xabc) && span.parentSpanID == SpanID(value: 0xdef))
        #expect(span.parentIsLocal)
        #expect(tracker.counters.kernelContexts == 1 && tracker.counters.kernelContextsUnmatched == 0)
    }

    @Test func aServerSpanCarriesTheContextTheKernelRememberedForItsThread() throws {
        var tracker = makeTracker()
        let server = Connection(pid: 8, fd: 6, socketID: 77)
        let decided = Self.context(.serverRequest, span: 0x123, parent: 0x456, sampled: false, remote: true)
        let spans = tracker.run([
            server.opened(.server, at: 0),
            Self.report(decided, on: server, at: 1 * Self.ms),
            server.read("GET /b HTTP/1.1\r\nHost: x\r\ntraceparent: 00-11112222333344445555666677778888-0000000000000456-00\r\n\r\n", at: 1 * Self.ms),
            server.write(Self.response, at: 2 * Self.ms),
        ])
        let span = try #require(spans.first { $0.kind == .server })
        #expect(span.traceID == Self.trace && span.spanID == SpanID(value: 0x123) && span.parentSpanID == SpanID(value: 0x456))
        #expect(!span.parentIsLocal && span.incoming?.sampled == false)
    }

    @Test func theCallsAServerThreadMakesAreChildrenOfTheKernelsServerSpan() throws {
        var tracker = makeTracker()
        let server = Connection(pid: 8, fd: 6, socketID: 77)
        let call = Connection(pid: 8, fd: 9, socketID: 78, local: SocketAddress(ipv4: 10, 0, 0, 1, port: 42000), peer: SocketAddress(ipv4: 10, 0, 0, 3, port: 80))
        let decided = Self.context(.serverRequest, span: 0x10, parent: nil)
        let injected = Self.context(.injectedRequest, span: 0x20, parent: 0x10)
        let spans = tracker.run([
            server.opened(.server, at: 0),
            Self.report(decided, on: server, at: 1 * Self.ms),
            server.read("GET /front HTTP/1.1\r\nHost: x\r\n\r\n", at: 1 * Self.ms),
            call.opened(.client, at: 2 * Self.ms),
            Self.report(injected, on: call, at: 3 * Self.ms),
            call.write("GET /back HTTP/1.1\r\nHost: y\r\n\r\n", at: 3 * Self.ms),
            call.read(Self.response, at: 4 * Self.ms),
            server.write(Self.response, at: 5 * Self.ms),
        ])
        let front = try #require(spans.first { $0.kind == .server })
        let back = try #require(spans.first { $0.kind == .client })
        #expect(front.spanID == SpanID(value: 0x10) && front.parentSpanID == nil)
        #expect(back.traceID == front.traceID && back.parentSpanID == front.spanID && back.spanID == SpanID(value: 0x20))
    }

    /// The kernel carries a server read's context and a write's injected one in the read's or
    /// the write's own record: taken as a report just before it would be.
    @Test func contextsCarriedInTheirReadOrWriteAreTheSpans() throws {
        var tracker = makeTracker()
        let server = Connection(pid: 8, fd: 6, socketID: 77)
        let call = Connection(pid: 8, fd: 9, socketID: 78, local: SocketAddress(ipv4: 10, 0, 0, 1, port: 42000), peer: SocketAddress(ipv4: 10, 0, 0, 3, port: 80))
        var read = server.read("GET /front HTTP/1.1\r\nHost: x\r\n\r\n", at: 1 * Self.ms)
        read.kernelContext = Self.context(.serverRequest, span: 0x10, parent: nil)
        var write = call.write("GET /back HTTP/1.1\r\nHost: y\r\n\r\n", at: 3 * Self.ms)
        write.kernelContext = Self.context(.injectedRequest, span: 0x20, parent: 0x10)
        let spans = tracker.run([
            server.opened(.server, at: 0),
            read,
            call.opened(.client, at: 2 * Self.ms),
            write,
            call.read(Self.response, at: 4 * Self.ms),
            server.write(Self.response, at: 5 * Self.ms),
        ])
        let front = try #require(spans.first { $0.kind == .server })
        let back = try #require(spans.first { $0.kind == .client })
        #expect(front.traceID == Self.trace && front.spanID == SpanID(value: 0x10) && front.parentSpanID == nil)
        #expect(back.traceID == front.traceID && back.parentSpanID == front.spanID && back.spanID == SpanID(value: 0x20))
        #expect(tracker.counters.kernelContexts == 2 && tracker.counters.kernelContextsUnmatched == 0)
    }

    @Test func anOptionsContextWaitsForTheConnectionsFirstRequestNotTheWriteItCameWith() throws {
        var tracker = makeTracker()
        let client = Connection(pid: 7, fd: 5, socketID: 9, local: SocketAddress(ipv4: 10, 0, 0, 1, port: 41000), peer: SocketAddress(ipv4: 10, 0, 0, 9, port: 80))
        let option = Self.context(.optionWritten, span: 0xfeed, parent: nil)
        // The option is decided at the connection's first write; the request's head ends in the next.
        let spans = tracker.run([
            client.opened(.client, at: 0),
            Self.report(option, on: client, at: 1 * Self.ms),
            client.write("GET /later HTTP/1.1\r\n", at: 1 * Self.ms),
            client.write("Host: x\r\n\r\n", at: 2 * Self.ms),
            client.read(Self.response, at: 3 * Self.ms),
        ])
        let span = try #require(spans.first { $0.kind == .client && $0.http?.path == "/later" })
        #expect(span.spanID == SpanID(value: 0xfeed) && span.traceID == Self.trace)
    }

    @Test func aContextReportedForAnotherSocketIsNotTaken() throws {
        var tracker = makeTracker()
        let server = Connection(pid: 8, fd: 6, socketID: 77)
        var elsewhere = server
        elsewhere.socketID = 78
        let decided = Self.context(.serverRequest, span: 0x123, parent: nil)
        let spans = tracker.run([
            server.opened(.server, at: 0),
            Self.report(decided, on: elsewhere, at: 1 * Self.ms),
            server.read("GET /c HTTP/1.1\r\nHost: x\r\n\r\n", at: 1 * Self.ms),
            server.write(Self.response, at: 2 * Self.ms),
        ])
        let span = try #require(spans.first { $0.kind == .server })
        #expect(span.spanID != SpanID(value: 0x123) && span.traceID != Self.trace)
        #expect(tracker.counters.kernelContextsUnmatched == 1)
    }

    @Test func aContextIsTakenOnlyByItsThreadsNextEvent() throws {
        var tracker = makeTracker()
        let client = Connection(pid: 7, fd: 5, socketID: 9, local: SocketAddress(ipv4: 10, 0, 0, 1, port: 41000), peer: SocketAddress(ipv4: 10, 0, 0, 9, port: 80))
        let injected = Self.context(.injectedRequest, span: 0xabc, parent: nil)
        var other = client
        other.fd = 6
        other.socketID = 10
        other.local = SocketAddress(ipv4: 10, 0, 0, 1, port: 41001)
        // The write it was for was never seen (shed): the thread's next event, a write on
        // another socket, does not take it, nor does a later request on its own socket.
        let spans = tracker.run([
            client.opened(.client, at: 0),
            other.opened(.client, at: 0),
            Self.report(injected, on: client, at: 1 * Self.ms),
            other.write("GET /other HTTP/1.1\r\nHost: x\r\n\r\n", at: 1 * Self.ms),
            client.write("GET /d HTTP/1.1\r\nHost: x\r\n\r\n", at: 2 * Self.ms),
            client.read(Self.response, at: 3 * Self.ms),
        ])
        let span = try #require(spans.first { $0.kind == .client && $0.http?.path == "/d" })
        #expect(span.spanID != SpanID(value: 0xabc))
        #expect(tracker.linker.counters.requestsInFlight == 0)
        #expect(tracker.counters.kernelContextsUnmatched == 1)
    }

    /// Reports of several threads may come before any of their events (events of two CPUs
    /// interleave): each event takes its own thread's context, and a thread's newer report
    /// replaces its older one.
    @Test func contextsOfSeveralThreadsWaitingAtOnceGoEachToItsThread() throws {
        var tracker = makeTracker()
        let servers = (0..<3).map { Connection(pid: 8, fd: Int32(6 + $0), socketID: UInt64(77 + $0)) }
        var reports: [CaptureEvent] = []
        for (index, server) in servers.enumerated() {
            var report = Self.report(Self.context(.serverRequest, span: UInt64(0x100 + index), parent: nil), on: server, at: 1 * Self.ms)
            report.tid = Int32(20 + index)
            reports.append(report)
        }
        var stale = reports[1]
        stale.kind = .traceContext(Self.context(.serverRequest, span: 0x999, parent: nil))
        var events = servers.map { $0.opened(.server, at: 0) }
        events += [stale, reports[0], reports[1], reports[2]]
        for index in [2, 0, 1] {
            var read = servers[index].read("GET /\(index) HTTP/1.1\r\nHost: x\r\n\r\n", at: 2 * Self.ms)
            read.tid = Int32(20 + index)
            events.append(read)
        }
        for index in 0..<3 {
            var write = servers[index].write(Self.response, at: 3 * Self.ms)
            write.tid = Int32(20 + index)
            events.append(write)
        }
        let spans = tracker.run(events)
        for index in 0..<3 {
            let span = try #require(spans.first { $0.http?.path == "/\(index)" })
            #expect(span.spanID == SpanID(value: UInt64(0x100 + index)))
        }
        #expect(tracker.counters.kernelContextsUnmatched == 0)
    }

    /// A same-node caller whose request went out without a header (its socket was not yet in
    /// the kernel's map) is still the parent: the kernel began a trace for the server thread,
    /// and the spans of that thread's calls, and of their callees on this node, join the
    /// caller's trace.
    @Test func aTracedCallerOnThisNodeIsTheParentWhenTheKernelBeganTheServersTrace() throws {
        var tracker = makeTracker()
        let clientAddress = SocketAddress(ipv4: 10, 0, 0, 1, port: 41000)
        let frontAddress = SocketAddress(ipv4: 10, 0, 0, 1, port: 8080)
        let backAddress = SocketAddress(ipv4: 10, 0, 0, 1, port: 9090)
        let callAddress = SocketAddress(ipv4: 10, 0, 0, 1, port: 42000)
        let client = Connection(pid: 7, fd: 5, socketID: 9, local: clientAddress, peer: frontAddress)
        let front = Connection(pid: 8, fd: 6, socketID: 10, local: frontAddress, peer: clientAddress)
        let call = Connection(pid: 8, fd: 9, socketID: 11, local: callAddress, peer: backAddress)
        let back = Connection(pid: 9, fd: 4, socketID: 12, local: backAddress, peer: callAddress)
        let began = Self.context(.serverRequest, span: 0x10, parent: nil)
        let injected = Self.context(.injectedRequest, span: 0x20, parent: 0x10)
        let continued = Self.context(.serverRequest, span: 0x30, parent: 0x20, remote: true)
        let spans = tracker.run([
            client.opened(.client, at: 0),
            front.opened(.server, at: 0),
            call.opened(.client, at: 0),
            back.opened(.server, at: 0),
            client.write("GET /front HTTP/1.1\r\nHost: x\r\n\r\n", at: 1 * Self.ms),
            Self.report(began, on: front, at: 2 * Self.ms),
            front.read("GET /front HTTP/1.1\r\nHost: x\r\n\r\n", at: 2 * Self.ms),
            Self.report(injected, on: call, at: 3 * Self.ms),
            call.write("GET /back HTTP/1.1\r\nHost: y\r\n\r\n", at: 3 * Self.ms),
            Self.report(continued, on: back, at: 4 * Self.ms),
            back.read("GET /back HTTP/1.1\r\nHost: y\r\ntraceparent: 00-11112222333344445555666677778888-0000000000000020-01\r\n\r\n", at: 4 * Self.ms),
            back.write(Self.response, at: 5 * Self.ms),
            call.read(Self.response, at: 6 * Self.ms),
            front.write(Self.response, at: 7 * Self.ms),
            client.read(Self.response, at: 8 * Self.ms),
        ])
        let caller = try #require(spans.first { $0.kind == .client && $0.http?.path == "/front" })
        let frontSpan = try #require(spans.first { $0.kind == .server && $0.http?.path == "/front" })
        let callSpan = try #require(spans.first { $0.kind == .client && $0.http?.path == "/back" })
        let backSpan = try #require(spans.first { $0.kind == .server && $0.http?.path == "/back" })
        #expect(frontSpan.spanID == SpanID(value: 0x10) && frontSpan.parentSpanID == caller.spanID)
        #expect(callSpan.spanID == SpanID(value: 0x20) && callSpan.parentSpanID == frontSpan.spanID)
        #expect(backSpan.spanID == SpanID(value: 0x30) && backSpan.parentSpanID == callSpan.spanID)
        #expect(Set([caller, frontSpan, callSpan, backSpan].map(\.traceID)) == [caller.traceID])
    }

    /// A connection's context carried in a TCP option does not override a `traceparent` the
    /// request carries itself (an SDK-instrumented HTTP/2 or gRPC client): both ends stay in
    /// that trace; the spans keep the kernel's ids.
    @Test func aRequestsOwnTraceparentWinsOverTheConnectionsOptionOnBothEnds() throws {
        var tracker = makeTracker()
        let clientAddress = SocketAddress(ipv4: 10, 0, 0, 1, port: 41000)
        let serverAddress = SocketAddress(ipv4: 10, 0, 0, 2, port: 8080)
        let client = Connection(pid: 7, fd: 5, socketID: 9, local: clientAddress, peer: serverAddress)
        let server = Connection(pid: 8, fd: 6, socketID: 10, local: serverAddress, peer: clientAddress)
        let written = Self.context(.optionWritten, span: 0x40, parent: nil)
        let read = Self.context(.optionRead, span: 0x50, parent: 0x40, remote: true)
        let own = "traceparent: 00-aaaabbbbccccddddeeeeffff00001111-00000000000000aa-01\r\n"
        let request = "GET /own HTTP/1.1\r\nHost: x\r\n" + own + "\r\n"
        let spans = tracker.run([
            client.opened(.client, at: 0),
            server.opened(.server, at: 0),
            Self.report(written, on: client, at: 1 * Self.ms),
            client.write(request, at: 1 * Self.ms),
            Self.report(read, on: server, at: 2 * Self.ms),
            server.read(request, at: 2 * Self.ms),
            server.write(Self.response, at: 3 * Self.ms),
            client.read(Self.response, at: 4 * Self.ms),
        ])
        let trace = TraceID(high: 0xaaaa_bbbb_cccc_dddd, low: 0xeeee_ffff_0000_1111)
        let clientSpan = try #require(spans.first { $0.kind == .client })
        let serverSpan = try #require(spans.first { $0.kind == .server })
        #expect(clientSpan.traceID == trace && clientSpan.parentSpanID == SpanID(value: 0xaa) && clientSpan.spanID == SpanID(value: 0x40))
        #expect(serverSpan.traceID == trace && serverSpan.parentSpanID == clientSpan.spanID && serverSpan.spanID == SpanID(value: 0x50))
    }
}
