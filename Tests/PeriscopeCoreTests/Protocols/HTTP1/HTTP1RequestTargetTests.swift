import Testing
import PeriscopeCore

@Suite struct HTTP1RequestTargetTests {
    @Test(arguments: [
        ("/", "/", nil),
        ("/users/42", "/users/42", nil),
        ("/p?q=1&r=2", "/p", "q=1&r=2"),
        ("/p?", "/p", ""),
        ("/p#frag", "/p", nil),
        ("http://host/p?q", "/p", "q"),
        ("https://host:8443/a/b", "/a/b", nil),
        ("http://host", "/", nil),
        ("http://host?q=1", "/", "q=1"),
        ("example.com:443", "example.com:443", nil),
        ("*", "*", nil),
    ] as [(String, String, String?)])
    func splitsTargetIntoPathAndQuery(target: String, path: String, query: String?) {
        let parsed = HTTP1RequestTarget(target)
        #expect(parsed.path == path)
        #expect(parsed.query == query)
    }

    @Test func keepsTheQueryOnRequest() {
        #expect(HTTP1RequestTarget("/a?b=c").path(keepingQuery: true) == "/a?b=c")
        #expect(HTTP1RequestTarget("/a?b=c").path(keepingQuery: false) == "/a")
        #expect(HTTP1RequestTarget("/a").path(keepingQuery: true) == "/a")
    }
}
