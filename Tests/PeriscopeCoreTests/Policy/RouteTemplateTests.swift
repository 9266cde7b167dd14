import Testing
import PeriscopeCore

@Suite struct RouteTemplateTests {
    @Test(arguments: [
        ("/", "/"),
        ("/healthz", "/healthz"),
        ("/users/42", "/users/{id}"),
        ("/users/42/orders/7?x=1", "/users/{id}/orders/{id}"),
        ("/v1/items/123e4567-e89b-12d3-a456-426614174000", "/v1/items/{uuid}"),
        ("/blobs/9f1c2e3d4b5a69788796a5b4c3d2e1f0", "/blobs/{hex}"),
        ("/commits/abc123", "/commits/abc123"),
        ("/v2/api", "/v2/api"),
        ("/a//1/", "/a//{id}/"),
    ])
    func identifiersBecomePlaceholders(path: String, route: String) {
        #expect(RouteTemplate.template(for: path) == route)
    }

    @Test func tenThousandUsersAreOneRoute() {
        let routes = Set((0..<10_000).map { RouteTemplate.template(for: "/users/\($0)/profile") })
        #expect(routes == ["/users/{id}/profile"])
    }
}
