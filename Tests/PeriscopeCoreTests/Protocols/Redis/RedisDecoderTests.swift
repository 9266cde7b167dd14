import Testing
@testable import PeriscopeCore

/// Builds RESP for tests.
enum RESP {
    static func command(_ words: String...) -> [UInt8] {
        Array(("*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()).utf8)
    }

    static func raw(_ text: String) -> [UInt8] { Array(text.utf8) }
}

@Suite struct RedisDecoderTests {
    @Test(arguments: [
        (RESP.command("GET", "k"), MessageStream.requests, ProtocolDetection.matches),
        (RESP.command("client", "setinfo", "LIB-NAME", "x"), .requests, .matches),
        (RESP.raw("*1\r\n$4\r\nPI"), .requests, .needMoreBytes),
        (RESP.raw("*1\r"), .requests, .needMoreBytes),
        (RESP.raw("*"), .requests, .needMoreBytes),
        (RESP.raw("PING\r\n"), .requests, .matches),
        (RESP.raw("SET a b\r\n"), .requests, .matches),
        (RESP.raw("PIN"), .requests, .needMoreBytes),
        (RESP.raw("get a\r\n"), .requests, .doesNotMatch),
        (RESP.raw("GET / HTTP/1.1\r\n"), .requests, .doesNotMatch),
        (RESP.raw("GET /index.html"), .requests, .needMoreBytes),
        (RESP.raw("HELO mail.example.com\r\n"), .requests, .doesNotMatch),
        (RESP.raw("*12345678\r\n"), .requests, .doesNotMatch),
        (RESP.raw("*1\r\n$4\r\n\u{1}\u{2}\u{3}\u{4}\r\n"), .requests, .doesNotMatch),
        (RESP.raw("*1\r\n:4\r\n"), .requests, .doesNotMatch),
        (RESP.raw("+OK\r\n"), .responses, .doesNotMatch),
        ([0, 0, 0, 8, 4, 210, 22, 47], .requests, .doesNotMatch),
    ] as [([UInt8], MessageStream, ProtocolDetection)])
    func detectsCommandsOnTheRequestsStream(bytes: [UInt8], stream: MessageStream, expected: ProtocolDetection) {
        #expect(RedisDecoder.detect(bytes[...], stream: stream) == expected)
    }

    @Test func pipelinedCommandsPairWithRepliesInOrder() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("SET", "a", "1") + RESP.command("GET", "a") + RESP.command("HGETALL", "h")),
            (.responses, RESP.raw("+OK\r\n$1\r\n1\r\n")),
            (.responses, RESP.raw("*2\r\n$1\r\nf\r\n$1\r\nv\r\n")),
        ])
        #expect(output.operations.map(\.summary) == ["SET | - | SET a", "GET | - | GET a", "HGETALL | - | HGETALL h"])
        #expect(output.operations.map(\.end) == [2_000, 2_000, 3_000])
        #expect(output.operations.allSatisfy { $0.start == 1_000 && $0.string("db.namespace") == "0" })
    }

    @Test func everyRESP3TypeIsOneReply() {
        var decoder = RedisDecoder()
        let replies = "|1\r\n+ttl\r\n:3\r\n%2\r\n+a\r\n:1\r\n+b\r\n,1.5\r\n" + "~2\r\n(123456789012345678901\r\n#t\r\n"
            + "_\r\n" + "=15\r\ntxt:Some string\r\n" + "!21\r\nSYNTAX invalid syntax\r\n" + "$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n"
            + "*?\r\n:1\r\n*1\r\n+x\r\n.\r\n" + "$-1\r\n" + "*-1\r\n"
        let names = ["HGETALL", "SMEMBERS", "GET", "INFO", "SET", "GET", "LRANGE", "GET", "BLPOP"]
        let output = decodeSteps(&decoder, [
            (.requests, names.flatMap { RESP.command($0, "k") }), (.responses, RESP.raw(replies)),
        ])
        #expect(output.decodeErrors.isEmpty)
        #expect(output.operations.map(\.name) == names)
        #expect(output.operations.map { $0.string("db.response.status_code") } == [nil, nil, nil, nil, "SYNTAX", nil, nil, nil, nil])
    }

    @Test func repliesSplitByteByByteStillPair() {
        var decoder = RedisDecoder()
        var output = decodeSteps(&decoder, [(.requests, RESP.command("MGET", "a", "b") + RESP.command("PING"))])
        for (index, byte) in RESP.raw("*2\r\n$3\r\nabc\r\n$-1\r\n+PONG\r\n").enumerated() {
            decoder.receive(ProtocolSegment(stream: .responses, bytes: [byte][...], timestamp: UInt64(10_000 + index), tid: 1), into: &output)
        }
        #expect(output.operations.map(\.name) == ["MGET", "PING"])
    }

    @Test func transactionCommandsEndAtExecWithTheirOwnResults() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("MULTI") + RESP.command("INCR", "n") + RESP.command("LPUSH", "n", "x") + RESP.command("EXEC")),
            (.responses, RESP.raw("+OK\r\n+QUEUED\r\n+QUEUED\r\n")),
            (.responses, RESP.raw("*2\r\n:1\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        ])
        #expect(output.operations.map(\.summary) == ["MULTI | - | MULTI", "INCR | - | INCR n", "LPUSH | WRONGTYPE | LPUSH n", "EXEC | - | EXEC"])
        #expect(output.operations.map(\.end) == [2_000, 3_000, 3_000, 3_000])
    }

    @Test func transactionAbortedByAQueuingError() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("MULTI") + RESP.command("SET", "a", "1") + RESP.command("NOPE") + RESP.command("EXEC")),
            (.responses, RESP.raw("+OK\r\n+QUEUED\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n")),
            (.responses, RESP.raw("-EXECABORT Transaction discarded because of previous errors.\r\n")),
        ])
        #expect(output.operations.map(\.summary) == [
            "MULTI | - | MULTI", "NOPE | ERR | NOPE", "SET | - | SET a", "EXEC | EXECABORT | EXEC",
        ])
        #expect(output.operations[2].status == .error && output.operations[2].statusMessage == "not run: transaction aborted")
        #expect(output.announcesEveryOperation && output.starts.count == 4)
        #expect(output.operations[1].statusMessage == "ERR unknown command 'NOPE'")
    }

    @Test func selectChangesTheNamespaceOfLaterCommandsOnlyWhenItSucceeds() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("SELECT", "99") + RESP.command("GET", "a") + RESP.command("SELECT", "4") + RESP.command("GET", "a")),
            (.responses, RESP.raw("-ERR DB index is out of range\r\n$-1\r\n+OK\r\n$-1\r\n")),
        ])
        #expect(output.operations.map { $0.string("db.namespace") } == ["0", "0", "4", "4"])
        var midway = RedisDecoder(initialDatabase: nil)
        let unknown = decodeSteps(&midway, [(.requests, RESP.command("GET", "a")), (.responses, RESP.raw("$-1\r\n"))])
        #expect(unknown.operations.first?.string("db.namespace") == nil)
    }

    @Test func subscriberMessagesAreCountedNotTraced() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("SUBSCRIBE", "a", "b")),
            (.responses, RESP.raw("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")),
            (.responses, RESP.raw("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n")),
            (.requests, RESP.command("PING")),
            (.responses, RESP.raw("*2\r\n$4\r\npong\r\n$0\r\n\r\n")),
            (.requests, RESP.command("UNSUBSCRIBE")),
            (.responses, RESP.raw(">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n")),
            (.responses, RESP.raw(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n")),
        ])
        #expect(output.operations.map(\.name) == ["SUBSCRIBE", "PING", "UNSUBSCRIBE"])
        #expect(output.operations.map(\.end) == [2_000, 5_000, 7_000])
        #expect(output.opaqueReasons == ["pubsub_message", "push_message"] && output.decodeErrors.isEmpty)
    }

    @Test func inlineCommands() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [(.requests, RESP.raw("PING\r\nGET  user:1\n\r\n")), (.responses, RESP.raw("+PONG\r\n$-1\r\n"))])
        #expect(output.operations.map(\.summary) == ["PING | - | PING", "GET | - | GET user:1"])
    }

    @Test func keptValuesNeverShowPasswords() {
        var decoder = RedisDecoder(options: DatabaseQueryOptions(keepQueryValues: true))
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("AUTH", "admin", "s3cret") + RESP.command("HELLO", "3", "AUTH", "admin", "s3cret", "SETNAME", "app")
                + RESP.command("CONFIG", "SET", "requirepass", "s3cret") + RESP.command("SET", "k", "v", "EX", "10")),
            (.responses, RESP.raw("+OK\r\n%1\r\n+server\r\n+redis\r\n+OK\r\n+OK\r\n")),
        ])
        #expect(output.operations.map { $0.string("db.query.text") } == [
            "AUTH ? ?", "HELLO 3 AUTH ? ? SETNAME app", "CONFIG SET requirepass ?", "SET k v EX 10",
        ])
        var sanitized = RedisDecoder()
        let plain = decodeSteps(&sanitized, [(.requests, RESP.command("SET", "k", "v")), (.responses, RESP.raw("+OK\r\n"))])
        #expect(plain.operations.first?.string("db.query.text") == "SET k")
    }

    @Test func nestingIsBounded() {
        var decoder = RedisDecoder()
        let deep = String(repeating: "*1\r\n", count: RedisReplyReader.maxDepth + 1) + ":1\r\n"
        let output = decodeSteps(&decoder, [(.requests, RESP.command("GET", "a")), (.responses, RESP.raw(deep))])
        #expect(output.decodeErrors == ["nesting_too_deep"])
    }

    @Test func tooManyPendingDropsTheOldestAndSkipsItsReply() {
        var decoder = RedisDecoder()
        let commands = (0...RedisDecoder.maxPendingCommands).flatMap { RESP.command("GET", "k\($0)") }
        let replies = (0...RedisDecoder.maxPendingCommands).flatMap { RESP.raw(":\($0)\r\n") }
        let output = decodeSteps(&decoder, [(.requests, commands), (.responses, replies)])
        #expect(output.decodeErrors == ["too_many_pending"])
        #expect(output.operations.count == RedisDecoder.maxPendingCommands + 1)
        #expect(output.operations.first?.statusMessage == "too many commands awaiting replies")
        #expect(output.operations[1].string("db.query.text") == "GET k1" && output.operations[1].status == .unset)
        #expect(output.announcesEveryOperation)
    }

    @Test func lostRepliesEndTheirCommandsWhenTheNextIsSent() {
        var decoder = RedisDecoder()
        var output = decodeSteps(&decoder, [(.requests, RESP.command("GET", "big"))])
        let big = RESP.raw("$5000\r\n" + String(repeating: "v", count: 5000) + "\r\n")
        // The gap falls within the bulk string: skipped by length, no loss.
        decoder.receive(ProtocolSegment(stream: .responses, bytes: big.prefix(64), gap: big.count - 64, timestamp: 5_000, tid: 1), into: &output)
        #expect(output.operations.map(\.end) == [5_000] && output.lostSyncs == 0)
        // A gap past a reply's end: the next reply's start is lost.
        decoder.receive(ProtocolSegment(stream: .requests, bytes: (RESP.command("GET", "a") + RESP.command("GET", "b"))[...], timestamp: 6_000, tid: 1), into: &output)
        decoder.receive(ProtocolSegment(stream: .responses, bytes: RESP.raw("$1\r\n1\r\n")[...], gap: 7, timestamp: 7_000, tid: 1), into: &output)
        decoder.receive(ProtocolSegment(stream: .requests, bytes: RESP.command("PING")[...], timestamp: 8_000, tid: 1), into: &output)
        decoder.receive(ProtocolSegment(stream: .responses, bytes: RESP.raw("+PONG\r\n")[...], timestamp: 9_000, tid: 1), into: &output)
        #expect(output.lostSyncs == 1)
        #expect(output.operations.map(\.summary) == ["GET | - | GET big", "GET | - | GET a", "GET | - | GET b", "PING | - | PING"])
        #expect(output.operations.map(\.end) == [5_000, 7_000, 7_000, 9_000])
    }

    @Test func monitorStopsDecoding() {
        var decoder = RedisDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, RESP.command("MONITOR")), (.responses, RESP.raw("+OK\r\n+1700000000.1 [0 1.2.3.4:5] \"GET\" \"a\"\r\n")),
        ])
        #expect(output.operations.map(\.name) == ["MONITOR"])
        #expect(output.opaqueReasons == ["unsupported_stream"] && output.decodeErrors.isEmpty)
    }

    @Test func mutatedStreamsNeverBreakTheDecoder() throws {
        var generator = SeededGenerator(seed: 0x6379)
        let recordings = try RedisFixtureTests.fixtures.map { try RecordedStream("redis", $0) }
        for iteration in 0..<300 {
            let recording = recordings[iteration % recordings.count]
            var decoder = RedisDecoder(options: DatabaseQueryOptions(keepQueryValues: iteration % 2 == 0))
            var output: [ProtocolOutput] = []
            for chunk in recording.chunks(of: recording.connections.last ?? 1) {
                var bytes = chunk.bytes
                for _ in 0..<Int.random(in: 0...2, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                let capture = Int.random(in: 1...max(1, bytes.count), using: &generator)
                decoder.receive(ProtocolSegment(stream: chunk.stream, bytes: bytes.prefix(capture), gap: bytes.count - capture,
                                                timestamp: chunk.timestamp, tid: 1), into: &output)
            }
            decoder.finish(at: .max, reason: "end", into: &output)
            #expect(output.operations.allSatisfy { $0.start <= $0.end })
            #expect(output.announcesEveryOperation && output.reportsEveryAnnouncement)
            #expect(decoder.pending.isEmpty && decoder.queued.isEmpty)
        }
    }
}
