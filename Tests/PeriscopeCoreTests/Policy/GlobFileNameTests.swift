import PeriscopeCore
import Testing

/// The file name a pattern fixes, which the kernel selects at exec.
struct GlobFileNameTests {
    @Test(arguments: [
        ("psql", "psql"),
        ("*/psql", "psql"),
        ("/usr/lib/postgresql/*/bin/postgres", "postgres"),
        ("/usr/bin/python3.13", "python3.13"),
        ("*/node\\*", "node*"),
        ("*envoy*", nil),
        ("*psql", nil),
        ("/usr/sbin/*", nil),
        ("/opt/app/", nil),
        ("*/python3.1?", nil),
        ("*/[pP]sql", nil),
    ] as [(String, String?)])
    func fileNameIsTheLiteralPartAfterTheLastSlash(pattern: String, name: String?) throws {
        #expect(try Glob(pattern).fileName == name)
    }

    /// Whenever a pattern fixes a name, every path it matches ends in that name.
    @Test func everyMatchedPathEndsInTheFixedName() throws {
        let paths = ["/usr/bin/psql", "/usr/lib/postgresql/17/bin/psql", "/usr/lib/postgresql/17/bin/postgres", "psql", "/x/psqlx"]
        for pattern in ["psql", "*/psql", "/usr/lib/postgresql/*/bin/postgres", "*/bin/psql"] {
            let glob = try Glob(pattern)
            let name = try #require(glob.fileName)
            for path in paths where glob.matches(executable: path) {
                #expect(path.split(separator: "/").last.map(String.init) == name, "\(pattern) matched \(path)")
            }
        }
    }
}
