import Testing
@testable import PeriscopeCore

@Suite struct SQLSanitizerTests {
    static func query(_ sql: String, _ dialect: SQLLexer.Dialect = .postgresql, keep: Bool = false, limit: Int = 2048) -> DatabaseQuery {
        SQLSanitizer.query(ArraySlice(sql.utf8), dialect: dialect, options: DatabaseQueryOptions(keepQueryValues: keep, maxQueryTextLength: limit))
    }

    @Test(arguments: [
        // sql, operation, collection, sanitized text
        ("SELECT abalance FROM pgbench_accounts WHERE aid = 12345;", "SELECT", "pgbench_accounts",
         "SELECT abalance FROM pgbench_accounts WHERE aid = ?;"),
        ("select * from users where name = 'o''brien' and active = true", "SELECT", "users",
         "select * from users where name = ? and active = ?"),
        ("INSERT INTO items VALUES (1, 'apple', 1.25, '{fruit}'), (2, 'pear', 2.50e3, '{x}')", "INSERT", "items",
         "INSERT INTO items VALUES (?, ?, ?, ?), (?, ?, ?, ?)"),
        ("SELECT id FROM items WHERE id IN (1, 2, 3) AND tag IN ($1, $2)", "SELECT", "items",
         "SELECT id FROM items WHERE id IN (?) AND tag IN (?)"),
        ("SELECT id FROM items WHERE id IN (SELECT item FROM orders)", "SELECT", nil,
         "SELECT id FROM items WHERE id IN (SELECT item FROM orders)"),
        ("UPDATE items SET price = price * 1.1 WHERE name = 'pear' /* 'quoted' */;", "UPDATE", "items",
         "UPDATE items SET price = price * ? WHERE name = ? ;"),
        ("  -- leading comment\n  DELETE   FROM\tpublic.items WHERE x = -5", "DELETE", "public.items",
         "DELETE FROM public.items WHERE x = -?"),
        ("WITH recent AS (SELECT * FROM orders) SELECT count(*) FROM recent", "SELECT", nil,
         "WITH recent AS (SELECT * FROM orders) SELECT count(*) FROM recent"),
        ("SELECT extract(year FROM created), substring(name FROM 2) FROM \"Orders\" o", "SELECT", "Orders",
         "SELECT extract(year FROM created), substring(name FROM ?) FROM \"Orders\" o"),
        ("SELECT a.x, b.y FROM a, b", "SELECT", nil, "SELECT a.x, b.y FROM a, b"),
        ("SELECT * FROM a JOIN a USING (id)", "SELECT", "a", "SELECT * FROM a JOIN a USING (id)"),
        ("SELECT * FROM generate_series(1, 10)", "SELECT", nil, "SELECT * FROM generate_series(?, ?)"),
        ("SELECT $tag$it's $1$tag$, $$x$$, E'a\\'b', x'1F', B'101', U&'d\\0061t', 0xFF", "SELECT", nil,
         "SELECT ?, ?, ?, ?, ?, ?, ?"),
        ("SELECT x::int FROM t WHERE y IS DISTINCT FROM z", "SELECT", "t", "SELECT x::int FROM t WHERE y IS DISTINCT FROM z"),
        ("CREATE TABLE IF NOT EXISTS items (id int)", "CREATE", "items", "CREATE TABLE IF NOT EXISTS items (id int)"),
        ("COPY items (id, name) FROM STDIN", "COPY", "items", "COPY items (id, name) FROM STDIN"),
        ("BEGIN; SELECT count(*) FROM items; COMMIT", "BEGIN", "items", "BEGIN; SELECT count(*) FROM items; COMMIT"),
        ("SELECT 1 FROM t FOR UPDATE", "SELECT", "t", "SELECT ? FROM t FOR UPDATE"),
        ("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", "INSERT", "t",
         "INSERT INTO t (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = ?"),
        ("select 'unterminated", "SELECT", nil, "select ?"),
        ("", nil, nil, nil),
    ] as [(String, String?, String?, String?)])
    func sanitizesPostgreSQL(sql: String, operation: String?, collection: String?, text: String?) {
        let query = Self.query(sql)
        #expect(query.operation == operation)
        #expect(query.collection == collection)
        #expect(query.text == text)
    }

    @Test(arguments: [
        ("SELECT * FROM `shop`.`orders` WHERE note = \"it\\\"s\" # trailing", "SELECT", "shop.orders",
         "SELECT * FROM `shop`.`orders` WHERE note = ?"),
        ("/*!40101 SET NAMES utf8mb4 */", "SET", nil, "SET NAMES utf8mb4"),
        ("INSERT INTO t VALUES ('a\\'b', _utf8mb4'x', X'0A', b'01') ON DUPLICATE KEY UPDATE n = n + 1", "INSERT", "t",
         "INSERT INTO t VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE n = n + ?"),
        ("UPDATE a, b SET a.x = b.y", "UPDATE", nil, "UPDATE a, b SET a.x = b.y"),
        ("select @@version_comment limit 1", "SELECT", nil, "select @@version_comment limit ?"),
        ("SELECT 1 -- comment\n", "SELECT", nil, "SELECT ?"),
        ("SELECT 5--3", "SELECT", nil, "SELECT ?--?"),
    ] as [(String, String?, String?, String?)])
    func sanitizesMySQL(sql: String, operation: String?, collection: String?, text: String?) {
        let query = Self.query(sql, .mysql)
        #expect(query.operation == operation)
        #expect(query.collection == collection)
        #expect(query.text == text)
    }

    @Test func keepsValuesWhenAsked() {
        let query = Self.query("  SELECT * FROM users WHERE name = 'ann'\n", keep: true)
        #expect(query.text == "SELECT * FROM users WHERE name = 'ann'")
        #expect(query.operation == "SELECT")
        #expect(query.collection == "users")
    }

    @Test func boundsTextLength() {
        let sql = "SELECT " + (1...400).map { "column\($0)" }.joined(separator: ", ") + " FROM t"
        let query = Self.query(sql, limit: 100)
        #expect((query.text?.utf8.count ?? 0) <= 100)
        #expect(query.text?.hasPrefix("SELECT column1, column2") == true)
        #expect(query.collection == "t")
        let kept = Self.query("SELECT 'é" + String(repeating: "é", count: 100) + "'", keep: true, limit: 20)
        #expect(kept.text?.utf8.count ?? 0 <= 20)
        #expect(kept.text?.contains("\u{FFFD}") == false)
    }

    @Test func neverFailsOnArbitraryBytes() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("SELECT FROM IN ( ) , ' \" ` $ $$ ? 1 . e -- /* */ # \n x".utf8) + [0, 0xFF, 0xC3]
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            for dialect in [SQLLexer.Dialect.postgresql, .mysql] {
                let query = SQLSanitizer.query(ArraySlice(bytes), dialect: dialect, options: DatabaseQueryOptions(maxQueryTextLength: 32))
                #expect((query.text?.utf8.count ?? 0) <= 32)
            }
        }
    }
}
