import Testing
@testable import PeriscopeCore

/// Byte streams recorded between real PostgreSQL 15 servers and clients
/// (`hack/record-db-fixtures.sh postgresql`).
@Suite struct PostgreSQLFixtureTests {
    static let fixtures = ["psql-simple", "pgbench-select-only", "pgbench-prepared", "psycopg-extended", "psql-ssl-accepted"]

    static func decode(_ name: String, connection: Int = 1, capture: Int = .max) throws -> (output: [ProtocolOutput], decoder: PostgreSQLDecoder) {
        let recording = try RecordedStream("postgresql", name)
        var decoder = PostgreSQLDecoder()
        let output = recording.decode(&decoder, connection: connection, capture: capture)
        return (output, decoder)
    }

    @Test(arguments: fixtures)
    func everyRecordedConnectionIsDetectedFromItsFirstRequestBytes(name: String) throws {
        let recording = try RecordedStream("postgresql", name)
        for connection in recording.connections {
            #expect(PostgreSQLDecoder.detect(recording.firstBytes(of: connection, .requests), stream: .requests) == .matches)
            #expect(PostgreSQLDecoder.detect(recording.firstBytes(of: connection, .responses), stream: .responses) == .doesNotMatch)
        }
    }

    @Test func psqlSimpleQueriesCopyAndAnError() throws {
        let (output, decoder) = try Self.decode("psql-simple")
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        #expect(decoder.namespace == "shop")
        let operations = output.operations
        #expect(operations.map(\.summary) == [
            "DROP items | - | DROP TABLE IF EXISTS items;",
            "CREATE items | - | CREATE TABLE items (id integer PRIMARY KEY, name text, price numeric(?,?), tags text[]);",
            "INSERT items | - | INSERT INTO items VALUES (?, ?, ?, ?), (?, ?, ?, ?);",
            "SELECT items | - | SELECT id, name FROM items WHERE id IN (?) AND name <> ? ORDER BY id;",
            "UPDATE items | - | UPDATE items SET price = price * ? WHERE name = ? ;",
            "SELECT missing_table | 42P01 | SELECT * FROM missing_table;",
            "COPY items | - | COPY items (id, name, price) FROM STDIN;",
            "COPY items | - | COPY items TO STDOUT;",
            "BEGIN items | - | BEGIN; SELECT count(*) FROM items; COMMIT;",
            "SELECT items | - | SELECT i.name, o.n FROM items i JOIN (SELECT ? AS n) o ON ? LIMIT ?;",
            "DELETE items | - | DELETE FROM items WHERE price > ?;",
        ])
        #expect(operations.map(\.status) == [.unset, .unset, .unset, .unset, .unset, .error, .unset, .unset, .unset, .unset, .unset])
        let failed = operations[5]
        #expect(failed.statusMessage == "relation \"missing_table\" does not exist")
        #expect(failed.string("error.type") == "42P01")
        #expect(operations[3].int("db.response.returned_rows") == 2)
        #expect(operations.allSatisfy { $0.string("db.system.name") == "postgresql" && $0.string("db.namespace") == "shop" })
        #expect(operations.allSatisfy { $0.start < $0.end && $0.tid == 101 })
        #expect(output.announcesEveryOperation && output.starts.count == operations.count)
        #expect(operations[0].string("db.operation.name") == "DROP" && operations[0].string("db.collection.name") == "items")
    }

    @Test func pgbenchSelectOnlyGivesOneOperationPerTransaction() throws {
        let (setup, _) = try Self.decode("pgbench-select-only", connection: 1)
        #expect(setup.operations.map(\.name) == ["SELECT pgbench_branches", "SELECT"])
        let (output, decoder) = try Self.decode("pgbench-select-only", connection: 2)
        #expect(decoder.namespace == "shop")
        #expect(output.operations.count == 5)
        #expect(output.operations.allSatisfy {
            $0.summary == "SELECT pgbench_accounts | - | SELECT abalance FROM pgbench_accounts WHERE aid = ?;"
                && $0.int("db.response.returned_rows") == 1
        })
    }

    @Test func pgbenchPreparedExecutesOneStatementFiveTimes() throws {
        let (output, _) = try Self.decode("pgbench-prepared", connection: 2)
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        #expect(output.operations.map(\.summary) == Array(
            repeating: "SELECT pgbench_accounts | - | SELECT abalance FROM pgbench_accounts WHERE aid = $1;", count: 5))
    }

    @Test func psycopgPreparedStatementsPipelineCopyAndError() throws {
        let (output, decoder) = try Self.decode("psycopg-extended")
        #expect(output.decodeErrors.isEmpty && output.lostSyncs == 0)
        #expect(decoder.namespace == "shop")
        let insert = "INSERT orders | - | INSERT INTO orders (customer, total) VALUES ($1, $2)"
        let select = "SELECT orders | - | SELECT id, total FROM orders WHERE customer = $1"
        let update = "UPDATE orders | - | UPDATE orders SET total = total + $1 WHERE id = $2"
        #expect(output.operations.map(\.summary) == [
            "BEGIN | - | BEGIN", "DROP orders | - | DROP TABLE IF EXISTS orders",
            "CREATE orders | - | CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric)",
            "COMMIT | - | COMMIT", "BEGIN | - | BEGIN",
            // Twice unnamed, then prepared once as _pg3_0 and executed twice.
            insert, insert, insert, insert,
            "COMMIT | - | COMMIT", "BEGIN | - | BEGIN",
            select, select, select,
            // Three executions pipelined before one Sync.
            update, update, update,
            "COMMIT | - | COMMIT", "BEGIN | - | BEGIN",
            "COPY orders | - | COPY orders (customer, total) FROM STDIN",
            "COMMIT | - | COMMIT", "BEGIN | - | BEGIN",
            "INSERT orders | 23505 | INSERT INTO orders (id, customer) VALUES ($1, $2)",
            "ROLLBACK | - | ROLLBACK", "DEALLOCATE | - | DEALLOCATE ALL",
            "BEGIN | - | BEGIN", "SELECT orders | - | SELECT count(*) FROM orders", "COMMIT | - | COMMIT",
        ])
        #expect(output.announcesEveryOperation && output.starts.count == output.operations.count)
        let duplicate = output.operations[22]
        #expect(duplicate.status == .error)
        #expect(duplicate.statusMessage == "duplicate key value violates unique constraint \"orders_pkey\"")
        #expect(output.operations[11...13].allSatisfy { $0.int("db.response.returned_rows") == 1 })
    }

    @Test func acceptedSSLRequestMakesTheSessionOpaque() throws {
        let (output, _) = try Self.decode("psql-ssl-accepted")
        #expect(output == [.opaque(reason: "encrypted_session")])
    }

    @Test(arguments: fixtures)
    func readsSplitAnywhereGiveTheSameOperations(name: String) throws {
        let recording = try RecordedStream("postgresql", name)
        for connection in recording.connections {
            var whole = PostgreSQLDecoder()
            let expected = recording.decode(&whole, connection: connection)
            for seed in 1...10 as ClosedRange<UInt64> {
                var decoder = PostgreSQLDecoder()
                #expect(recording.decode(&decoder, connection: connection, split: seed) == expected)
            }
        }
    }

    @Test(arguments: fixtures)
    func uncapturedBytesLoseOperationsNeverTheDecoder(name: String) throws {
        let recording = try RecordedStream("postgresql", name)
        for connection in recording.connections {
            var whole = PostgreSQLDecoder()
            let expected = recording.decode(&whole, connection: connection).operations
            for capture in [1, 5, 16, 48, 200, 2048] {
                var decoder = PostgreSQLDecoder()
                let output = recording.decode(&decoder, connection: connection, capture: capture)
                #expect(output.operations.count <= expected.count, "capture \(capture)")
                #expect(output.operations.allSatisfy { $0.start <= $0.end })
                if capture >= 16 {
                    // Below that even the startup message is cut: bytes may then read as garbage.
                    #expect(output.decodeErrors.isEmpty, "capture \(capture): \(output.decodeErrors)")
                    #expect(output.opaqueReasons.allSatisfy { $0 == "encrypted_session" })
                }
                if capture >= recording.chunks(of: connection).map(\.bytes.count).max() ?? 0 {
                    #expect(output.operations == expected)
                }
            }
        }
    }
}
