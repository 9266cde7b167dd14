import Testing
@testable import PeriscopeCore

/// Builds MySQL packets for tests.
enum My {
    static func packet(_ sequence: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count >> 16 & 0xFF), sequence] + payload
    }

    static func le32(_ value: UInt32) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)] }

    static func greeting(version: String = "8.0.36", capabilities: UInt32 = 0xFFFF_F7FF) -> [UInt8] {
        let payload: [UInt8] = [10] + Array(version.utf8) + [0] + le32(7) + Array(repeating: 0x41, count: 8) + [0]
            + [UInt8(capabilities & 0xFF), UInt8(capabilities >> 8 & 0xFF)] + [0x21, 2, 0]
            + [UInt8(capabilities >> 16 & 0xFF), UInt8(capabilities >> 24)] + [21] + Array(repeating: 0, count: 10)
            + Array(repeating: 0x42, count: 12) + [0] + Array("caching_sha2_password".utf8) + [0]
        return packet(0, payload)
    }

    static let protocol41: UInt32 = 0x200 | 0x8000 | 0x8_0000 | 0x1
    static func handshake(database: String?, extra: UInt32 = 0) -> [UInt8] {
        let capabilities = protocol41 | extra | (database != nil ? 0x8 : 0)
        var payload = le32(capabilities) + le32(1 << 24) + [0x21] + Array(repeating: 0, count: 23)
        payload += Array("app".utf8) + [0] + [20] + Array(repeating: 0x55, count: 20)
        if let database { payload += Array(database.utf8) + [0] }
        payload += Array("caching_sha2_password".utf8) + [0]
        return packet(1, payload)
    }

    static let ok = packet(2, [0, 0, 0, 2, 0, 0, 0])
    static func query(_ sql: String) -> [UInt8] { packet(0, [3] + Array(sql.utf8)) }
    static func okAnswer(_ sequence: UInt8 = 1, status: UInt16 = 2) -> [UInt8] {
        packet(sequence, [0, 0, 0, UInt8(status & 0xFF), UInt8(status >> 8), 0, 0])
    }
    static func error(_ sequence: UInt8 = 1, code: UInt16, _ message: String) -> [UInt8] {
        packet(sequence, [0xFF, UInt8(code & 0xFF), UInt8(code >> 8)] + Array("#42000".utf8) + Array(message.utf8))
    }
    static func eof(_ sequence: UInt8, status: UInt16 = 2) -> [UInt8] { packet(sequence, [0xFE, 0, 0, UInt8(status & 0xFF), UInt8(status >> 8)]) }
    static func column(_ sequence: UInt8) -> [UInt8] { packet(sequence, [3] + Array("def".utf8) + [0, 0, 0, 1, 0x78, 0]) }
    static func row(_ sequence: UInt8, _ value: String) -> [UInt8] { packet(sequence, [UInt8(value.utf8.count)] + Array(value.utf8)) }

    static func session(database: String? = "shop") -> [(MessageStream, [UInt8])] {
        [(.responses, greeting()), (.requests, handshake(database: database)), (.responses, ok)]
    }
}

@Suite struct MySQLDecoderTests {
    @Test(arguments: [
        (My.greeting(), MessageStream.responses, ProtocolDetection.matches),
        (My.greeting(version: "5.5.5-10.11.6-MariaDB"), .responses, .matches),
        (Array(My.greeting().prefix(5)), .responses, .needMoreBytes),
        (Array(My.greeting().prefix(8)), .responses, .needMoreBytes),
        ([], .responses, .needMoreBytes),
        (My.greeting(), .requests, .doesNotMatch),
        (My.query("SELECT 1"), .requests, .doesNotMatch),
        (My.packet(0, [9] + Array("8.0\0".utf8) + Array(repeating: 0, count: 40)), .responses, .doesNotMatch),
        (My.packet(1, [10] + Array("8.0\0".utf8) + Array(repeating: 0, count: 40)), .responses, .doesNotMatch),
        (Array("HTTP/1.1 200 OK\r\n\r\n".utf8), .responses, .doesNotMatch),
        (Array("+OK\r\n".utf8), .responses, .doesNotMatch),
    ] as [([UInt8], MessageStream, ProtocolDetection)])
    func detectsTheServerGreeting(bytes: [UInt8], stream: MessageStream, expected: ProtocolDetection) {
        #expect(MySQLDecoder.detect(bytes[...], stream: stream) == expected)
    }

    @Test func mysqlGreetingAndHandshakeNameSystemAndDatabase() {
        var decoder = MySQLDecoder()
        let output = decodeSteps(&decoder, My.session() + [
            (.requests, My.query("SELECT name FROM users WHERE id = 7")),
            (.responses, My.packet(1, [1]) + My.column(2) + My.eof(3) + My.row(4, "ann") + My.eof(5)),
        ])
        #expect(decoder.system == .mysql && decoder.namespace == "shop")
        #expect(output.operations.map(\.summary) == ["SELECT users | - | SELECT name FROM users WHERE id = ?"])
        #expect(output.operations.first?.int("db.response.returned_rows") == 1)
        #expect(output.operations.first?.string("db.system.name") == "mysql")
    }

    @Test func sslRequestAndCompressionMakeTheSessionOpaque() {
        var tls = MySQLDecoder()
        let ssl = My.packet(1, My.le32(My.protocol41 | 0x800) + My.le32(1 << 24) + [0x21] + Array(repeating: 0, count: 23))
        #expect(decodeSteps(&tls, [(.responses, My.greeting()), (.requests, ssl), (.requests, [0x16, 3, 1])]) == [
            .opaque(reason: "encrypted_session"),
        ])
        var compressed = MySQLDecoder()
        #expect(decodeSteps(&compressed, [(.responses, My.greeting()), (.requests, My.handshake(database: nil, extra: 0x20))]) == [
            .opaque(reason: "compressed_session"),
        ])
    }

    @Test func deprecatedEOFResultSetsEndWithAnOKPacket() {
        var decoder = MySQLDecoder()
        let output = decodeSteps(&decoder, [
            (.responses, My.greeting()), (.requests, My.handshake(database: "shop", extra: 0x100_0000)), (.responses, My.ok),
            (.requests, My.query("SELECT a, b FROM t")),
            (.responses, My.packet(1, [2]) + My.column(2) + My.column(3) + My.row(4, "1") + My.row(5, "2")
                + My.packet(6, [0xFE, 0, 0, 2, 0, 0, 0])),
            (.requests, My.query("SELECT 1")), (.responses, My.packet(1, [1]) + My.column(2) + My.row(3, "1") + My.packet(4, [0xFE, 0, 0, 2, 0, 0, 0])),
        ])
        #expect(output.operations.map { $0.int("db.response.returned_rows") } == [2, 1])
    }

    @Test func queryLongerThanOnePacketIsReadFromItsFirst() {
        var decoder = MySQLDecoder()
        let text = "INSERT INTO blobs VALUES ('" + String(repeating: "z", count: 0xFF_FFFF) + "')"
        let payload = [UInt8(3)] + Array(text.utf8)
        let first = My.packet(0, Array(payload.prefix(0xFF_FFFF)))
        let second = My.packet(1, Array(payload.dropFirst(0xFF_FFFF)))
        let output = decodeSteps(&decoder, My.session() + [(.requests, first + second), (.responses, My.okAnswer(2))])
        #expect(output.operations.map(\.summary) == ["INSERT blobs | - | INSERT INTO blobs VALUES (?"])
    }

    @Test func localInfileDataIsNotReadAsCommands() {
        var decoder = MySQLDecoder()
        let output = decodeSteps(&decoder, My.session() + [
            (.requests, My.query("LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE t")),
            (.responses, My.packet(1, [0xFB] + Array("/tmp/x.csv".utf8))),
            (.requests, My.packet(2, [3] + Array("1,2\n".utf8)) + My.packet(3, [])),
            (.responses, My.okAnswer(4)),
        ])
        #expect(output.operations.map(\.summary) == ["LOAD t | - | LOAD DATA LOCAL INFILE ? INTO TABLE t"])
    }

    @Test func unknownStatementIdIsNamedExecute() {
        var decoder = MySQLDecoder()
        let output = decodeSteps(&decoder, My.session() + [
            (.requests, My.packet(0, [0x17] + My.le32(42) + [0] + My.le32(1))), (.responses, My.okAnswer()),
        ])
        #expect(output.operations.map(\.name) == ["EXECUTE"])
    }

    @Test func lostAnswersEndTheirCommandWhenTheNextOneIsSent() {
        var decoder = MySQLDecoder()
        var output = decodeSteps(&decoder, My.session() + [(.requests, My.query("SELECT * FROM big"))])
        let rows = My.packet(1, [1]) + My.column(2) + My.eof(3) + (0..<100).flatMap { My.row(UInt8(4 + $0), String(repeating: "r", count: 50)) }
        decoder.receive(ProtocolSegment(stream: .responses, bytes: rows.prefix(100), gap: rows.count - 100, timestamp: 9_000, tid: 7), into: &output)
        decoder.receive(ProtocolSegment(stream: .requests, bytes: My.query("SELECT 2")[...], timestamp: 10_000, tid: 7), into: &output)
        decoder.receive(ProtocolSegment(stream: .responses, bytes: (My.packet(1, [1]) + My.column(2) + My.eof(3) + My.row(4, "2") + My.eof(5))[...],
                                        timestamp: 11_000, tid: 7), into: &output)
        #expect(output.lostSyncs == 1)
        #expect(output.operations.map(\.name) == ["SELECT big", "SELECT"])
        #expect(output.operations.map(\.end) == [9_000, 11_000])
    }

    @Test func keepsValuesWhenConfigured() {
        var decoder = MySQLDecoder(options: DatabaseQueryOptions(keepQueryValues: true))
        let output = decodeSteps(&decoder, My.session() + [(.requests, My.query("DELETE FROM t WHERE name = 'x'")), (.responses, My.okAnswer())])
        #expect(output.operations.first?.string("db.query.text") == "DELETE FROM t WHERE name = 'x'")
    }

    @Test func connectionEndAbandonsTheCommandInFlight() {
        var decoder = MySQLDecoder()
        let output = decodeSteps(&decoder, My.session() + [(.requests, My.query("SELECT SLEEP(10)"))], finishing: true)
        #expect(output.operations.first?.status == .error && output.operations.first?.statusMessage == "connection closed")
    }

    @Test func failedAuthenticationStopsDecoding() {
        var decoder = MySQLDecoder()
        let output = decodeSteps(&decoder, [
            (.responses, My.greeting()), (.requests, My.handshake(database: "shop")),
            (.responses, My.error(2, code: 1045, "Access denied")), (.requests, My.query("SELECT 1")),
        ])
        #expect(output.isEmpty)
        #expect(decoder.phase == .stopped)
    }

    @Test func mutatedStreamsNeverBreakTheDecoder() throws {
        var generator = SeededGenerator(seed: 0x3306)
        let recordings = try MySQLFixtureTests.fixtures.map { try RecordedStream("mysql", $0) }
        for iteration in 0..<300 {
            let recording = recordings[iteration % recordings.count]
            var decoder = MySQLDecoder()
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
            #expect(decoder.commands.isEmpty)
        }
    }
}
