import Testing
@testable import PeriscopeCore

/// The decoder reading the frames the kernel walked past the capture: frame headers, header
/// blocks and DATA's first bytes at their offsets, what lies between skipped by length.
@Suite struct HTTP2FrameWalkTests {
    /// Ten responses written at once, 3 KB bodies, 100 bytes captured: every stream ends with
    /// its status and body size, and the server's HPACK table stays in step (each response
    /// after the first names its server header from the dynamic table).
    @Test func tenResponsesPastTheCaptureEachEndExactly() {
        var h2 = H2Conversation()
        let requests = (0..<10).flatMap { H2.request(UInt32(1 + 2 * $0), "GET", "/r\($0)") }
        h2.client(H2.preface + H2.settings() + requests)
        var write = H2.settings()
        for index in 0..<10 {
            let fields: [H2.Field] = index == 0
                ? [.index(8), .literal("server", "nghttpd", indexed: true)] : [.index(8), .index(62)]
            write += H2.headers(UInt32(1 + 2 * index), block: H2.block(fields)) + H2.data(UInt32(1 + 2 * index), size: 3_000, endStream: true)
        }
        var kernel = KernelFrameWalk()
        h2.send(.responses, write, prefix: 100, walk: kernel.walk(write, prefix: 100))
        #expect(h2.errors == [] && !h2.output.contains(.lostSync))
        #expect(h2.operations.map { "\($0.http?.path ?? "?") \($0.http?.statusCode ?? 0) \($0.http?.responseBodySize ?? -1)" }
            == (0..<10).map { "/r\($0) 200 3000" })
        // The table is still right for what comes next.
        h2.client(H2.request(21, "GET", "/next"))
        h2.server(H2.headers(21, block: H2.block([.index(8), .index(62)]), endStream: true))
        #expect(h2.errors == [] && h2.operations.count == 11)
    }

    /// A frame cut by the end of a write (its header split, a header block split) goes on
    /// in the next write, where the walk carries on from where it left off.
    @Test func framesCutAcrossWritesContinueInTheNext() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1) + H2.request(3))
        let all = H2.settings() + H2.response(1, extra: [("x-long", String(repeating: "v", count: 300))])
            + H2.data(1, size: 2_500, endStream: true) + H2.response(3) + H2.data(3, size: 700, endStream: true)
        var kernel = KernelFrameWalk()
        // Cut inside the second HEADERS frame's header, then inside DATA.
        let firstCut = all.count - 700 - 9 - H2.response(3).count - 4
        let secondCut = all.count - 300
        for (from, to) in [(0, firstCut), (firstCut, secondCut), (secondCut, all.count)] {
            let write = Array(all[from..<to])
            let prefix = min(64, write.count)
            h2.send(.responses, write, prefix: prefix, walk: kernel.walk(write, prefix: prefix))
        }
        #expect(h2.errors == [] && !h2.output.contains(.lostSync))
        #expect(h2.operations.map { "\($0.streamID ?? 0) \($0.http?.statusCode ?? 0) \($0.http?.responseBodySize ?? -1)" } == ["1 200 2500", "3 200 700"])
    }

    /// gRPC: each DATA frame's first bytes (a message's prefix) are copied, so messages
    /// larger than the capture are still counted; the trailers behind them give the status.
    @Test func grpcMessagesLargerThanTheCaptureAreCounted() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1, "POST", "/routeguide.RouteGuide/ListFeatures", extra: GRPCTests.grpcRequest, endStream: false))
        h2.client(H2.data(1, H2.grpcMessage(3), endStream: true))
        let write = H2.response(1, extra: [("content-type", "application/grpc")])
            + (0..<5).flatMap { _ in H2.data(1, H2.grpcMessage(3_000)) }
            + H2.headers(1, [("grpc-status", "0")], endStream: true)
        var kernel = KernelFrameWalk()
        h2.send(.responses, write, prefix: 0, walk: kernel.walk(write, prefix: 0))
        #expect(h2.errors == [])
        let call = h2.operations.first
        #expect(call?.attribute("rpc.grpc.response.message_count") == .int(5))
        #expect(call?.attribute("rpc.grpc.status_code") == .int(0))
        #expect(call?.http?.responseBodySize == 5 * 3_005)
    }

    /// Padded DATA: the pad length is copied with the header, so padding is not counted.
    @Test func paddedDataPastTheCaptureCountsItsContentOnly() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1))
        let write = H2.response(1) + H2.data(1, size: 1_000, padding: 40) + H2.data(1, size: 500, endStream: true, padding: 7)
        var kernel = KernelFrameWalk()
        h2.send(.responses, write, prefix: 20, walk: kernel.walk(write, prefix: 20))
        #expect(h2.errors == [])
        #expect(h2.operations.map { $0.http?.responseBodySize } == [1_500])
    }

    /// After lost sync (a frame header among uncaptured bytes), the first walked range that
    /// starts a frame is where reading resumes: stream 3 ends whole.
    @Test func lostSyncResumesAtAWalkedFrameStart() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1) + H2.request(3))
        let first = H2.response(1) + H2.data(1, size: 400, endStream: true)
        let write = first + H2.response(3) + H2.data(3, size: 900, endStream: true)
        var kernel = KernelFrameWalk()
        let walk = kernel.walk(write, prefix: 30)
        // Only the ranges from stream 3's HEADERS on: the header of stream 1's DATA is lost.
        let kept = walk.filter { $0.offset >= first.count }.map { (offset: $0.offset, startsFrame: $0.startsFrame, bytes: Array($0.bytes)) }
        h2.send(.responses, write, prefix: 30, walk: FrameWalk(kept))
        #expect(h2.output.filter { $0 == .lostSync }.count == 1)
        #expect(h2.operations.map { "\($0.streamID ?? 0) \($0.http?.statusCode ?? 0) \($0.http?.responseBodySize ?? -1)" } == ["3 200 900"])
        #expect(h2.decoder.openStreamCount == 1, "stream 1, whose end was lost, ends with the connection")
    }

    /// A read or write that starts inside a frame (capture resumed after shedding, or after
    /// lost bytes) carries a mark where its first frame header is: a decoder that starts there
    /// or lost its place reads from it, not from the middle of the frame.
    @Test func aMarkSaysWhereTheFirstFrameHeaderIs() {
        let rest = [UInt8](repeating: 0x61, count: 37)
        let frames = H2.response(5) + H2.data(5, size: 20, endStream: true)
        let write = rest + frames
        let mark = FrameWalk([(offset: rest.count, startsFrame: true, bytes: [])])
        for lost in [false, true] {
            var h2 = H2Conversation()
            h2.client(H2.preface + H2.settings() + H2.request(5))
            if lost { h2.server(H2.settings() + [0, 0], gap: 100) }
            h2.send(.responses, write, prefix: write.count, walk: mark)
            #expect(h2.errors == [], "lost sync first: \(lost)")
            #expect(h2.operations.map { "\($0.streamID ?? 0) \($0.http?.statusCode ?? 0) \($0.http?.responseBodySize ?? -1)" } == ["5 200 20"])
        }
    }

    /// Records that are out of order, overlap what was read, reach past the syscall or are
    /// cut short are passed over; what remains is read, nothing traps.
    @Test func malformedRecordsArePassedOver() {
        var h2 = H2Conversation()
        h2.client(H2.preface + H2.settings() + H2.request(1))
        let write = H2.response(1) + H2.data(1, size: 600) + H2.data(1, size: 10, endStream: true)
        let last = write.count - 19
        let walk = FrameWalk([
            (offset: 5, startsFrame: true, bytes: [1, 2, 3]),                       // inside the prefix
            (offset: last, startsFrame: true, bytes: Array(write[last..<(last + 9)])), // the last DATA frame's header
            (offset: 100, startsFrame: true, bytes: [9, 9, 9]),                     // before the one read
            (offset: write.count - 2, startsFrame: false, bytes: [0, 0, 0, 0, 0]),  // past the end
        ])
        h2.send(.responses, write, prefix: 40, walk: walk)
        #expect(h2.errors == [] && !h2.output.contains(.lostSync))
        #expect(h2.operations.map { $0.http?.responseBodySize } == [610])
        var truncated = FrameWalk([(offset: 40, startsFrame: true, bytes: [1, 2, 3, 4])]).records
        truncated.removeLast()
        #expect(Array(FrameWalk(records: truncated)).isEmpty, "a record cut short is not read")
        #expect(Array(FrameWalk(records: [1, 2, 3])).isEmpty)
    }
}
