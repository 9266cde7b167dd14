import Testing
@testable import PeriscopeCore

/// Byte streams recorded between a real MariaDB 10.11 server and real clients
/// (`hack/record-db-fixtures.sh mysql`).
@Suite struct MySQLFixtureTests {
    static let fixtures = ["pymysql-commands", "mysql-prepared", "mariadb-cli"]

    static func decode(_ name: String, capture: Int = .max) throws -> (output: [ProtocolOutput], decoder: MySQLDecoder) {
        let recording = try RecordedStream("mysql", name)
        var decoder = MySQLDecoder()
        let output = recording.decode(&decoder, connection: 1, capture: capture)
        return (output, decoder)
    }

    @Test(arguments: fixtures)
    func everyRecordedConnectionIsDetectedFromTheServerGreeting(name: String) throws {
        let recording = try RecordedStream("mysql", name)
        #expect(MySQLDecoder.detect(recording.firstBytes(of: 1, .responses), stream: .responses) == .matches)
        #expect(MySQLDecoder.detect(recording.firstBytes(of: 1, .requests), stream: .requests) == .doesNotMatch)
    }

    @Test func pymysqlQueriesInitDBPingMultipleResultsAndAnError() throws {
        let (output, decoder) = try Self.decode("pymysql-commands")
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        #expect(decoder.system == .mariadb && decoder.namespace == "audit")
        let insert = "INSERT orders | - | INSERT INTO orders (customer, total) VALUES (?, ?)"
        #expect(output.operations.map(\.summary) == [
            "SET | - | SET NAMES utf8mb4", "SET | - | SET AUTOCOMMIT = ?",
            "DROP orders | - | DROP TABLE IF EXISTS orders",
            "CREATE orders | - | CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(?) NOT NULL, total DECIMAL(?,?))",
            insert, insert, insert, "COMMIT | - | COMMIT",
            "SELECT orders | - | SELECT id, total FROM orders WHERE customer IN (?) ORDER BY id",
            "INSERT | - | INSERT INTO orders (customer, total) SELECT CONCAT(?, seq), seq FROM seq_1_to_200",
            "COMMIT | - | COMMIT",
            "SELECT orders | - | SELECT * FROM orders",
            "SELECT missing_table | 1146 | SELECT * FROM missing_table WHERE id = ?",
            "SELECT | - | SELECT ?; SELECT ?",
            "USE | - | -", "PING | - | -", "SELECT | - | SELECT DATABASE()",
        ])
        let operations = output.operations
        #expect(operations.map { $0.int("db.response.returned_rows") } == [
            nil, nil, nil, nil, nil, nil, nil, nil, 2, nil, nil, 203, nil, 2, nil, nil, 1,
        ])
        #expect(operations[12].status == .error && operations[12].statusMessage == "Table 'shop.missing_table' doesn't exist")
        #expect(operations[12].string("error.type") == "1146")
        #expect(operations.prefix(14).allSatisfy { $0.string("db.namespace") == "shop" })
        #expect(operations.suffix(3).allSatisfy { $0.string("db.namespace") == "audit" })
        #expect(operations.allSatisfy { $0.string("db.system.name") == "mariadb" && $0.start < $0.end })
        #expect(output.announcesEveryOperation && output.starts.count == operations.count)
    }

    @Test func serverSidePreparedStatementExecutedThreeTimesThenClosed() throws {
        let (output, decoder) = try Self.decode("mysql-prepared")
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        let select = "SELECT orders | - | SELECT id, customer FROM orders WHERE id = ?"
        #expect(output.operations.map(\.summary) == [
            "SET | - | SET NAMES utf8mb4", "SET | - | SET AUTOCOMMIT = ?", select, select, select,
            "UPDATE orders | - | UPDATE orders SET total = total + ? WHERE id = ?",
            // A prepare that fails is reported; one that succeeds is not.
            "SELECT no_such_table | 1146 | SELECT * FROM no_such_table WHERE id = ?",
        ])
        #expect(output.operations[2...4].allSatisfy { $0.int("db.response.returned_rows") == 1 })
        // Statement 1 was closed; statement 2 (the UPDATE) remains.
        #expect(decoder.statements.count == 1)
    }

    @Test func mariadbClientQueriesSQLPreparedStatementsAndUse() throws {
        let (output, decoder) = try Self.decode("mariadb-cli")
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        #expect(decoder.namespace == "audit")
        #expect(output.operations.map(\.summary) == [
            "SELECT orders | - | SELECT id, customer FROM orders WHERE total > ? AND customer <> ? LIMIT ?",
            "UPDATE orders | - | UPDATE orders SET total = total * ? WHERE id IN (?)",
            "PREPARE | - | PREPARE by_id FROM ?", "SET | - | SET @id = ?", "EXECUTE | - | EXECUTE by_id USING @id",
            "DEALLOCATE | - | DEALLOCATE PREPARE by_id", "SELECT | - | SELECT DATABASE()", "USE | - | -",
            "SELECT shop.nothing_here | 1146 | SELECT * FROM shop.nothing_here",
        ])
        // The client caches column definitions: result sets say whether they follow.
        #expect(output.operations.map { $0.int("db.response.returned_rows") } == [5, nil, nil, nil, 1, nil, 1, nil, nil])
    }

    @Test(arguments: fixtures)
    func readsSplitAnywhereGiveTheSameOperations(name: String) throws {
        let recording = try RecordedStream("mysql", name)
        var whole = MySQLDecoder()
        let expected = recording.decode(&whole, connection: 1)
        for seed in 1...10 as ClosedRange<UInt64> {
            var decoder = MySQLDecoder()
            #expect(recording.decode(&decoder, connection: 1, split: seed) == expected)
        }
    }

    @Test(arguments: fixtures)
    func uncapturedBytesLoseOperationsNeverTheDecoder(name: String) throws {
        let recording = try RecordedStream("mysql", name)
        var whole = MySQLDecoder()
        let expected = recording.decode(&whole, connection: 1).operations
        for capture in [1, 4, 16, 64, 200, 2048] {
            var decoder = MySQLDecoder()
            let output = recording.decode(&decoder, connection: 1, capture: capture)
            #expect(output.operations.count <= expected.count, "capture \(capture)")
            #expect(output.operations.allSatisfy { $0.start <= $0.end })
            if capture >= 200 {
                // Greetings and handshakes fit: operations are lost, never invented or misnamed.
                #expect(output.decodeErrors.isEmpty, "capture \(capture): \(output.decodeErrors)")
                #expect(Set(output.operations.map(\.name)).isSubset(of: Set(expected.map(\.name))))
            }
            if capture >= recording.chunks(of: 1).map(\.bytes.count).max() ?? 0 {
                #expect(output.operations == expected)
            }
        }
    }
}
