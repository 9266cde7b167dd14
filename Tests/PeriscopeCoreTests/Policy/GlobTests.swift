import Testing
import PeriscopeCore

@Suite struct GlobTests {
    @Test(arguments: [
        ("nginx", "/usr/sbin/nginx", true),
        ("*nginx*", "/usr/sbin/nginx", true),
        ("*nginx*", "/opt/nginx-1.25/bin/nginx-debug", true),
        ("nginx", "/usr/sbin/nginx-debug", false),
        ("nginx", "nginx", true),
        ("nginx*", "/usr/sbin/nginx/other", false),
        ("python3.?", "/usr/bin/python3.11", false),
        ("python3.??", "/usr/bin/python3.11", true),
        ("python3.[0-9]*", "/usr/bin/python3.11", true),
        ("python3.[!0-9]*", "/usr/bin/python3.11", false),
        ("[abc]at", "/bin/bat", true),
        ("[abc]at", "/bin/rat", false),
        ("[^abc]at", "/bin/rat", true),
        ("[]]x", "/bin/]x", true),
        ("[a-]x", "/bin/-x", true),
        ("\\*", "/bin/*", true),
        ("\\*", "/bin/a", false),
        ("a\\?", "/bin/a?", true),
        ("a\\?", "/bin/ab", false),
        ("[\\]]", "/bin/]", true),
        ("*", "/usr/bin/anything", true),
        ("*", "/", true),
        ("/usr/sbin/*", "/usr/sbin/nginx", true),
        ("/usr/*", "/usr/local/bin/envoy", true),
        ("/usr/*/envoy", "/usr/local/bin/envoy", true),
        ("/usr/sbin/nginx", "/usr/sbin/nginx", true),
        ("/usr/sbin/nginx", "/usr/local/sbin/nginx", false),
        ("*/java", "/usr/lib/jvm/bin/java", true),
        ("/usr/bin/py*", "/opt/usr/bin/python", false),
        ("*a*a*a*a*a*b", "/" + String(repeating: "a", count: 200), false),
        ("gr\u{fc}n", "/bin/gr\u{fc}n", true),
        ("gr?n", "/bin/gr\u{fc}n", true),
    ])
    func matchesExecutablePaths(pattern: String, path: String, expected: Bool) throws {
        #expect(try Glob(pattern).matches(executable: path) == expected)
    }

    @Test func patternWithoutSlashLooksAtTheBasenameOnly() throws {
        let glob = try Glob("*sbin*")
        #expect(!glob.matchesFullPath)
        #expect(!glob.matches(executable: "/usr/sbin/nginx"))
        #expect(try Glob("/usr/sbin/*").matchesFullPath)
    }

    @Test(arguments: ["", "[abc", "[", "[!", "[]", "abc\\", "[z-a]", "[a\\"])
    func rejectsPatternsThatCannotBeCompiled(pattern: String) {
        let error = #expect(throws: PolicyError.self) { try Glob(pattern) }
        #expect(error?.code == .invalidValue)
    }

    @Test func globsCompareByPattern() throws {
        #expect(try Glob("*a*") == Glob("*a*"))
        #expect(try Glob("*a*") != Glob("*a**"))
    }
}
