import Testing
import PeriscopeCore

@Suite struct RoutePatternTests {
    @Test(arguments: [
        ("/users/{id}", "/users/42", true),
        ("/users/{id}", "/users/42?expand=1", true),
        ("/users/{id}", "/users/", false),
        ("/users/{id}", "/users", false),
        ("/users/{id}", "/users/42/orders", false),
        ("/users/{id}/orders/{order}", "/users/7/orders/9", true),
        ("/static/*", "/static/css/site.css", true),
        ("/static/*", "/static/", true),
        ("/static/*", "/static", true),
        ("/static/*", "/staticfiles/a", false),
        ("/*", "/anything/at/all", true),
        ("/*", "/", true),
        ("/", "/", true),
        ("/", "/a", false),
        ("/healthz", "/healthz", true),
        ("/healthz", "/healthz/", false),
        ("/healthz", "/HEALTHZ", false),
        ("/healthz", "healthz", false),
        ("/healthz", "*", false),
        ("/healthz", "", false),
        ("/a/{x}/*", "/a/1/b/c", true),
        ("/a/{x}/*", "/a//b", false),
    ])
    func matchesPaths(pattern: String, path: String, expected: Bool) throws {
        #expect(try RoutePattern(pattern).matches(path: path) == expected)
    }

    @Test(arguments: ["users", "", "/a/{}", "/a/{id", "/a/id}", "/a/x{id}", "/a/*/b", "/a/b*", "/a/{i{d}"])
    func rejectsMalformedPatterns(pattern: String) {
        let error = #expect(throws: PolicyError.self) { try RoutePattern(pattern) }
        #expect(error?.code == .invalidValue)
    }

    @Test func firstMatchingPatternInConfiguredOrderWins() throws {
        let matcher = RouteMatcher(try ["/users/me", "/users/{id}", "/users/*", "/*"].map(RoutePattern.init))
        #expect(matcher.route(for: "/users/me") == "/users/me")
        #expect(matcher.route(for: "/users/12") == "/users/{id}")
        #expect(matcher.route(for: "/users/12/avatar") == "/users/*")
        #expect(matcher.route(for: "/orders") == "/*")
        #expect(RouteMatcher(try ["/*", "/users/{id}"].map(RoutePattern.init)).route(for: "/users/1") == "/*")
    }

    @Test func noPatternsMeansNoRoute() {
        #expect(RouteMatcher([]).route(for: "/users/1") == nil)
        #expect(!RouteMatcher([]).matches("/users/1"))
    }

    @Test func literalPatternsExcludeExactlyTheirPath() throws {
        let excluded = RouteMatcher(try ["/healthz", "/metrics", "/debug/*"].map(RoutePattern.init))
        #expect(excluded.matches("/healthz"))
        #expect(excluded.matches("/metrics?format=prometheus"))
        #expect(excluded.matches("/debug/pprof/heap"))
        #expect(!excluded.matches("/healthz/live"))
        #expect(!excluded.matches("/api"))
    }
}
