import Testing

@Suite struct APICallTests {
    @Test(arguments: [
        ("GET /apis/periscope.dev/v1alpha1/nodeinstrumentations?fieldSelector=metadata.name%3Dn&limit=500", "list periscope.dev/nodeinstrumentations"),
        ("GET /apis/periscope.dev/v1alpha1/nodeinstrumentations?allowWatchBookmarks=true&watch=true", "watch periscope.dev/nodeinstrumentations"),
        ("PUT /apis/periscope.dev/v1alpha1/nodeinstrumentations/node-a/status", "update periscope.dev/nodeinstrumentations/status"),
        ("PATCH /apis/periscope.dev/v1alpha1/namespaces/shop/instrumentationpolicies/p/status", "patch periscope.dev/instrumentationpolicies/status in shop"),
        ("GET /api/v1/pods?limit=500", "list core/pods"),
        ("GET /api/v1/namespaces/shop", "get core/namespaces"),
        ("POST /apis/coordination.k8s.io/v1/namespaces/periscope-system/leases", "create coordination.k8s.io/leases in periscope-system"),
        ("DELETE /apis/periscope.dev/v1alpha1/nodeinstrumentations/node-b", "delete periscope.dev/nodeinstrumentations"),
    ])
    func parsesRequestLinesAsRBACSeesThem(line: String, expected: String) throws {
        #expect(try #require(APICall(logLine: line)).description == expected)
    }

    @Test(arguments: ["GET /api", "GET /apis", "GET /openapi/v3", "", "BREW /api/v1/pods"])
    func ignoresDiscoveryAndJunk(line: String) {
        #expect(APICall(logLine: line) == nil)
    }
}
