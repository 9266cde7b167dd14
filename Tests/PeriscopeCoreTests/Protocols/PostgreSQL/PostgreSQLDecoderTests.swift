import Testing
@testable import PeriscopeCore

/// Feeds `(stream, bytes)` steps, one segment each at increasing timestamps.
func decodeSteps<Decoder: ProtocolDecoder>(
    _ decoder: inout Decoder, _ steps: [(MessageStream, [UInt8])], finishing: Bool = false
) -> [ProtocolOutput] {
    var output: [ProtocolOutput] = []
    var timestamp: UInt64 = 1_000
    for (stream, bytes) in steps {
        decoder.receive(ProtocolSegment(stream: stream, bytes: bytes[...], timestamp: timestamp, tid: 7), into: &output)
        timestamp += 1_000
    }
    if finishing { decoder.finish(at: timestamp, reason: "connection closed", into: &output) }
    return output
}

@Suite struct PostgreSQLDecoderTests {
    static let session: [(MessageStream, [UInt8])] = [
        (.requests, PG.startup([("user", "app"), ("database", "orders")])),
        (.responses, PG.authenticationOK + PG.ready),
    ]

    @Test(arguments: [
        (PG.startup([("user", "app")]), MessageStream.requests, ProtocolDetection.matches),
        (PG.sslRequest, .requests, .matches),
        (PG.gssRequest, .requests, .matches),
        (PG.be32(16) + PG.be32(80_877_102) + PG.be32(1) + PG.be32(2), .requests, .matches),
        (Array(PG.sslRequest.prefix(5)), .requests, .needMoreBytes),
        ([], .requests, .needMoreBytes),
        (PG.query("select 1"), .requests, .matches),
        (PG.query("  WITH x AS (select 1) select * from x"), .requests, .matches),
        (PG.parse("s1", "INSERT INTO t VALUES ($1)"), .requests, .matches),
        (Array(PG.query("SELECT 1").prefix(7)), .requests, .needMoreBytes),
        (PG.query("hello world"), .requests, .doesNotMatch),
        (PG.message("B", [0, 0, 0, 0]), .requests, .doesNotMatch),
        (Array("GET / HTTP/1.1\r\n\r\n".utf8), .requests, .doesNotMatch),
        (Array("*1\r\n$4\r\nPING\r\n".utf8), .requests, .doesNotMatch),
        (PG.be32(8) + PG.be32(0x0002_0000), .requests, .doesNotMatch),
        (PG.ready, .responses, .doesNotMatch),
    ] as [([UInt8], MessageStream, ProtocolDetection)])
    func detectsStartupAndStatementsOnTheRequestsStream(bytes: [UInt8], stream: MessageStream, expected: ProtocolDetection) {
        #expect(PostgreSQLDecoder.detect(bytes[...], stream: stream) == expected)
    }

    @Test func refusedSSLRequestThenStartupNamesTheDatabase() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, PG.sslRequest), (.responses, Array("N".utf8)),
        ] + Self.session + [
            (.requests, PG.query("SELECT 1")), (.responses, PG.row("1") + PG.complete("SELECT 1") + PG.ready),
        ])
        #expect(decoder.namespace == "orders")
        #expect(output.operations.map(\.summary) == ["SELECT | - | SELECT ?"])
        #expect(output.operations.first?.int("db.response.returned_rows") == 1)
        #expect(output.operations.first?.start == 5_000 && output.operations.first?.end == 6_000)
    }

    @Test func acceptedGSSEncryptionIsReportedOnceAndNothingElse() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, [
            (.requests, PG.gssRequest), (.responses, Array("G".utf8)), (.requests, [0x16, 0x03, 0x01, 0x00]),
            (.responses, PG.ready),
        ], finishing: true)
        #expect(output == [.opaque(reason: "encrypted_session")])
    }

    @Test func startupWithoutDatabaseUsesTheUserName() {
        var decoder = PostgreSQLDecoder()
        _ = decodeSteps(&decoder, [(.requests, PG.startup([("user", "reporting"), ("application_name", "psql")]))])
        #expect(decoder.namespace == "reporting")
    }

    @Test func namedStatementParsedOnceGivesOneOperationPerExecution() {
        var decoder = PostgreSQLDecoder()
        var steps = Self.session
        steps.append((.requests, PG.parse("get_user", "SELECT name FROM users WHERE id = $1") + PG.sync))
        steps.append((.responses, PG.parseComplete + PG.ready))
        for index in 0..<3 {
            steps.append((.requests, PG.bind("", "get_user") + PG.execute() + PG.sync))
            steps.append((.responses, PG.bindComplete + Array(repeating: PG.row("x"), count: index).flatMap { $0 } + PG.complete("SELECT \(index)") + PG.ready))
        }
        steps.append((.requests, PG.close(statement: "get_user") + PG.bind("", "get_user") + PG.execute() + PG.sync))
        steps.append((.responses, PG.error("26000", "prepared statement \"get_user\" does not exist") + PG.ready))
        let output = decodeSteps(&decoder, steps)
        let operations = output.operations
        #expect(operations.map(\.summary) == Array(repeating: "SELECT users | - | SELECT name FROM users WHERE id = $1", count: 3)
            // Its statement closed, the fourth execution fails before the server knows what it runs.
            + ["postgresql | 26000 | -"])
        #expect(operations.prefix(3).map { $0.int("db.response.returned_rows") } == [0, 1, 2])
        #expect(operations.map(\.start) == [5_000, 7_000, 9_000, 11_000])
    }

    @Test func errorInAPipelineFailsItsStatementAndSkipsTheRestOfTheBatch() {
        var decoder = PostgreSQLDecoder()
        let batch = ["INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (2)", "INSERT INTO c VALUES (3)"].flatMap {
            PG.parse("", $0) + PG.bind("", "") + PG.execute()
        } + PG.sync + PG.parse("", "SELECT 1") + PG.bind("", "") + PG.execute() + PG.sync
        let output = decodeSteps(&decoder, Self.session + [
            (.requests, batch),
            (.responses, PG.parseComplete + PG.bindComplete + PG.complete("INSERT 0 1")),
            (.responses, PG.parseComplete + PG.bindComplete + PG.error("23505", "duplicate key") + PG.ready),
            (.responses, PG.parseComplete + PG.bindComplete + PG.row("1") + PG.complete("SELECT 1") + PG.ready),
        ])
        #expect(output.operations.map(\.summary) == [
            "INSERT a | - | INSERT INTO a VALUES (?)", "INSERT b | 23505 | INSERT INTO b VALUES (?)",
            "INSERT c | - | INSERT INTO c VALUES (?)", "SELECT | - | SELECT ?",
        ])
        #expect(output.operations.map(\.status) == [.unset, .error, .error, .unset])
        #expect(output.operations[2].statusMessage == "not run: an earlier statement of the batch failed")
        #expect(output.operations.map(\.end) == [4_000, 5_000, 5_000, 6_000])
        #expect(output.announcesEveryOperation && output.starts.count == 4)
        #expect(output.operations.allSatisfy { $0.start == 3_000 })
    }

    @Test func failedPrepareWithoutExecutionIsReported() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, Self.session + [
            (.requests, PG.parse("s1", "SELEC oops FROM t") + PG.describe() + PG.sync),
            (.responses, PG.error("42601", "syntax error at or near \"SELEC\"") + PG.ready),
        ])
        #expect(output.operations.map(\.summary) == ["SELEC t | 42601 | SELEC oops FROM t"])
    }

    @Test func multiStatementQueryCountsRowsAndKeepsItsFirstError() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, Self.session + [
            (.requests, PG.query("SELECT 1; SELECT 2; SELECT x FROM nowhere")),
            (.responses, PG.row("1") + PG.complete("SELECT 1") + PG.row("2") + PG.complete("SELECT 1")
                + PG.error("42P01", "relation \"nowhere\" does not exist") + PG.ready),
        ])
        let operation = output.operations.first
        #expect(output.operations.count == 1)
        #expect(operation?.status == .error && operation?.int("db.response.returned_rows") == 2)
        #expect(operation?.string("db.response.status_code") == "42P01")
    }

    @Test func keepsValuesWhenConfigured() {
        var decoder = PostgreSQLDecoder(options: DatabaseQueryOptions(keepQueryValues: true))
        let output = decodeSteps(&decoder, Self.session + [
            (.requests, PG.query("SELECT * FROM users WHERE name = 'ann'")),
            (.responses, PG.complete("SELECT 0") + PG.ready),
        ])
        #expect(output.operations.first?.string("db.query.text") == "SELECT * FROM users WHERE name = 'ann'")
    }

    @Test func metMidStreamDecodesFromTheFirstQuery() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, [
            (.responses, PG.complete("SELECT 1") + PG.ready),
            (.requests, PG.query("UPDATE t SET x = 1")), (.responses, PG.complete("UPDATE 3") + PG.ready),
        ])
        #expect(output.operations.map(\.summary) == ["UPDATE t | - | UPDATE t SET x = ?"])
        #expect(decoder.namespace == nil)
    }

    @Test func lostResponsesEndTheirStatementWhenTheNextOneIsSent() {
        var decoder = PostgreSQLDecoder()
        var output = decodeSteps(&decoder, Self.session + [(.requests, PG.query("SELECT * FROM big"))])
        let rows = Array(repeating: PG.row(String(repeating: "x", count: 100)), count: 50).flatMap { $0 } + PG.complete("SELECT 50") + PG.ready
        decoder.receive(ProtocolSegment(stream: .responses, bytes: rows.prefix(300), gap: rows.count - 300, timestamp: 9_000, tid: 7), into: &output)
        decoder.receive(ProtocolSegment(stream: .requests, bytes: PG.query("SELECT 2")[...], timestamp: 10_000, tid: 7), into: &output)
        decoder.receive(ProtocolSegment(stream: .responses, bytes: (PG.row("2") + PG.complete("SELECT 1") + PG.ready)[...], timestamp: 11_000, tid: 7), into: &output)
        #expect(output.lostSyncs == 1)
        #expect(output.operations.map(\.name) == ["SELECT big", "SELECT"])
        #expect(output.operations.map(\.end) == [9_000, 11_000])
    }

    @Test func bigQueryCutByCaptureStaysInStep() {
        var decoder = PostgreSQLDecoder()
        var output = decodeSteps(&decoder, Self.session)
        let query = PG.query("INSERT INTO logs VALUES ('" + String(repeating: "y", count: 5000) + "')")
        decoder.receive(ProtocolSegment(stream: .requests, bytes: query.prefix(64), gap: query.count - 64, timestamp: 5_000, tid: 7), into: &output)
        decoder.receive(ProtocolSegment(stream: .responses, bytes: (PG.complete("INSERT 0 1") + PG.ready)[...], timestamp: 6_000, tid: 7), into: &output)
        #expect(output.lostSyncs == 0)
        #expect(output.operations.map(\.summary) == ["INSERT logs | - | INSERT INTO logs VALUES (?"])
    }

    @Test func connectionEndAbandonsWaitingStatements() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, Self.session + [(.requests, PG.query("SELECT pg_sleep(10)"))], finishing: true)
        #expect(output.operations.count == 1)
        #expect(output.operations.first?.status == .error && output.operations.first?.statusMessage == "connection closed")
    }

    @Test func unknownMessageTypeStopsDecoding() {
        var decoder = PostgreSQLDecoder()
        let output = decodeSteps(&decoder, Self.session + [
            (.responses, [UInt8(ascii: "~"), 0, 0, 0, 4]), (.requests, PG.query("SELECT 1")), (.responses, PG.ready),
        ])
        #expect(output == [.decodeError(reason: "unknown_message_type")])
    }

    @Test func pendingStatementsAreBounded() {
        var decoder = PostgreSQLDecoder()
        let many = Array(repeating: PG.execute(), count: PostgreSQLDecoder.maxPendingUnits + 1).flatMap { $0 }
        let output = decodeSteps(&decoder, Self.session + [(.requests, many)])
        #expect(output.decodeErrors == ["too_many_pending"])
        #expect(decoder.units.count <= PostgreSQLDecoder.maxPendingUnits)
    }

    @Test func mutatedStreamsNeverBreakTheDecoder() throws {
        var generator = SeededGenerator(seed: 0x9e5)
        let recordings = try PostgreSQLFixtureTests.fixtures.map { try RecordedStream("postgresql", $0) }
        for iteration in 0..<300 {
            let recording = recordings[iteration % recordings.count]
            var decoder = PostgreSQLDecoder()
            var output: [ProtocolOutput] = []
            for chunk in recording.chunks(of: 1) {
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
            #expect(decoder.units.isEmpty)
        }
    }
}
