import Testing
@testable import PeriscopeCore

/// Byte streams recorded between a real Redis 7.0 server and real clients
/// (`hack/record-db-fixtures.sh redis`).
@Suite struct RedisFixtureTests {
    static let fixtures = ["redis-cli", "redis-cli-resp3", "redis-benchmark", "redis-py-resp2", "redis-py-resp3"]

    static func decode(_ name: String, connection: Int = 1, capture: Int = .max) throws -> (output: [ProtocolOutput], decoder: RedisDecoder) {
        let recording = try RecordedStream("redis", name)
        var decoder = RedisDecoder()
        let output = recording.decode(&decoder, connection: connection, capture: capture)
        return (output, decoder)
    }

    @Test(arguments: fixtures)
    func everyRecordedConnectionIsDetectedFromItsFirstCommand(name: String) throws {
        let recording = try RecordedStream("redis", name)
        for connection in recording.connections {
            #expect(RedisDecoder.detect(recording.firstBytes(of: connection, .requests), stream: .requests) == .matches)
            #expect(RedisDecoder.detect(recording.firstBytes(of: connection, .responses), stream: .responses) == .doesNotMatch)
        }
    }

    @Test func redisCLICommandsErrorsAuthAndSelect() throws {
        let (output, decoder) = try Self.decode("redis-cli")
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        #expect(decoder.namespace == "3")
        let operations = output.operations
        #expect(operations.map(\.summary) == [
            "COMMAND DOCS | - | COMMAND DOCS", "PING | - | PING", "SET | - | SET user:1:name", "GET | - | GET user:1:name",
            "INCR | - | INCR page:views", "HSET | - | HSET user:1", "HGETALL | - | HGETALL user:1", "LPUSH | - | LPUSH queue",
            "LRANGE | - | LRANGE queue", "EXPIRE | - | EXPIRE user:1", "INCR | ERR | INCR user:1:name", "AUTH | ERR | AUTH",
            "NOSUCHCOMMAND | ERR | NOSUCHCOMMAND foo", "SELECT | - | SELECT", "SET | - | SET other:key", "DEL | - | DEL other:key",
        ])
        #expect(operations.map { $0.string("db.namespace") } == Array(repeating: "0", count: 13) + ["3", "3", "3"])
        #expect(operations[12].statusMessage == "ERR unknown command 'NOSUCHCOMMAND'")
        #expect(operations[10].status == .error && operations[10].string("error.type") == "ERR")
        #expect(!operations.contains { ($0.string("db.query.text") ?? "").contains("secretpassword") || ($0.statusMessage ?? "").contains("secret") })
        #expect(operations.allSatisfy { $0.string("db.system.name") == "redis" && $0.string("db.operation.name") == $0.name })
        #expect(output.announcesEveryOperation && output.starts.count == operations.count)
    }

    @Test func redisCLIOverRESP3() throws {
        let (output, _) = try Self.decode("redis-cli-resp3")
        #expect(output.decodeErrors.isEmpty)
        #expect(output.operations.map(\.summary) == [
            "HELLO | - | HELLO", "COMMAND DOCS | - | COMMAND DOCS", "HGETALL | - | HGETALL user:1", "SMEMBERS | - | SMEMBERS none",
            "ZADD | - | ZADD z", "ZSCORE | - | ZSCORE z", "EXISTS | - | EXISTS user:1", "GET | - | GET nothing",
            "INCR | WRONGTYPE | INCR user:1",
        ])
    }

    @Test func redisBenchmarkPipelinesThreeCommandsAtATime() throws {
        let recording = try RecordedStream("redis", "redis-benchmark")
        var names: [String] = []
        for connection in recording.connections {
            var decoder = RedisDecoder()
            let output = recording.decode(&decoder, connection: connection)
            #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
            #expect(output.operations.allSatisfy { $0.status == .unset && $0.start < $0.end })
            names += output.operations.map(\.name)
        }
        #expect(names == ["CONFIG GET", "CONFIG GET"] + Array(repeating: "SET", count: 12) + Array(repeating: "GET", count: 12))
        // Three commands written at once, answered in one read: same start, same end.
        let (output, _) = try Self.decode("redis-benchmark", connection: 2)
        #expect(Set(output.operations.prefix(3).map(\.start)).count == 1)
        #expect(Set(output.operations.prefix(3).map(\.end)).count == 1)
    }

    @Test(arguments: ["redis-py-resp2", "redis-py-resp3"])
    func redisPyPipelineTransactionErrorAndPubSub(name: String) throws {
        let (output, decoder) = try Self.decode(name)
        #expect(decoder.namespace == "1")
        #expect(output.decodeErrors.isEmpty)
        #expect(output.opaqueReasons == ["pubsub_message"], "one message pushed to the subscriber, counted")
        let handshake = name.hasSuffix("resp3")
            ? ["HELLO", "CLIENT MAINT_NOTIFICATIONS", "CLIENT SETINFO", "CLIENT SETINFO"] : ["CLIENT SETINFO", "CLIENT SETINFO"]
        #expect(output.operations.map(\.name) == handshake + [
            "SELECT", "SET", "INCRBY", "INCRBY", "INCRBY", "INCRBY", "INCRBY", "GET",
            "MULTI", "SET", "DECRBY", "INCRBY", "EXEC", "LPUSH", "HSET", "HGETALL", "SMEMBERS", "ZADD", "ZSCORE",
            "SUBSCRIBE", "UNSUBSCRIBE",
        ])
        let operations = output.operations.dropFirst(handshake.count)
        let exec = try #require(operations.first { $0.name == "EXEC" })
        let transaction = operations.filter { ["SET balance:a", "DECRBY balance:a", "INCRBY balance:b"].contains($0.string("db.query.text")) }
        #expect(transaction.count == 3 && transaction.allSatisfy { $0.end == exec.end && $0.status == .unset })
        let lpush = try #require(operations.first { $0.name == "LPUSH" })
        #expect(lpush.string("db.response.status_code") == "WRONGTYPE")
        #expect(output.operations.prefix(handshake.count).allSatisfy { $0.string("db.namespace") == "0" })
        #expect(operations.allSatisfy { $0.string("db.namespace") == "1" || $0.name == "SELECT" })
        // The publisher's connection.
        let (publisher, _) = try Self.decode(name, connection: 2)
        #expect(publisher.operations.map(\.name).suffix(2) == ["SELECT", "PUBLISH"])
    }

    @Test(arguments: fixtures)
    func readsSplitAnywhereGiveTheSameOperations(name: String) throws {
        let recording = try RecordedStream("redis", name)
        for connection in recording.connections {
            var whole = RedisDecoder()
            let expected = recording.decode(&whole, connection: connection)
            for seed in 1...10 as ClosedRange<UInt64> {
                var decoder = RedisDecoder()
                #expect(recording.decode(&decoder, connection: connection, split: seed) == expected)
            }
        }
    }

    @Test(arguments: fixtures)
    func uncapturedBytesLoseOperationsNeverTheDecoder(name: String) throws {
        let recording = try RecordedStream("redis", name)
        for connection in recording.connections {
            var whole = RedisDecoder()
            let expected = recording.decode(&whole, connection: connection).operations
            for capture in [1, 8, 32, 64, 200, 2048] {
                var decoder = RedisDecoder()
                let output = recording.decode(&decoder, connection: connection, capture: capture)
                #expect(output.operations.count <= expected.count, "capture \(capture)")
                #expect(output.operations.allSatisfy { $0.start <= $0.end })
                #expect(output.decodeErrors.isEmpty, "capture \(capture): \(output.decodeErrors)")
                #expect(output.opaqueReasons.allSatisfy { $0 == "pubsub_message" })
                if capture >= recording.chunks(of: connection).map(\.bytes.count).max() ?? 0 {
                    #expect(output.operations == expected)
                }
            }
        }
    }
}
