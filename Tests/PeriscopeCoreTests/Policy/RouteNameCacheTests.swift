import Testing
@testable import PeriscopeCore

@Suite struct RouteNameCacheTests {
    /// A kept method and path is found again, and a key that differs from it in one byte
    /// (anywhere, for keys of every length up to 40), in its length or in the path's `/`, is not.
    @Test func findsWhatWasKeptAndNothingThatDiffersInOneByte() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...40 {
            for _ in 0..<5 {
                let method = Array("GET".utf8)
                let path = (0..<length).map { _ in UInt8.random(in: 0x21...0x7E, using: &generator) }
                var cache = RouteNameCache()
                let named: RouteNameCache.Named = ("/r\(length)", "GET /r\(length)")
                Self.with(method, path) { cache.keep(named, method: $0, pathNeedsSlash: false, path: $1) }
                let found = Self.with(method, path) { cache.named(method: $0, pathNeedsSlash: false, path: $1) }
                #expect(found??.route == named.route)
                #expect(Self.with(method, path) { cache.named(method: $0, pathNeedsSlash: true, path: $1) } == nil)
                #expect(Self.with(method, path + [0x41]) { cache.named(method: $0, pathNeedsSlash: false, path: $1) } == nil)
                #expect(Self.with(Array("PUT".utf8), path) { cache.named(method: $0, pathNeedsSlash: false, path: $1) } == nil)
                for index in path.indices {
                    var other = path
                    other[index] ^= 0x01
                    #expect(Self.with(method, other) { cache.named(method: $0, pathNeedsSlash: false, path: $1) } == nil, "byte \(index) of \(length)")
                }
            }
        }
    }

    /// Excluded routes are kept too, as `.some(nil)`.
    @Test func keepsAnExcludedRoute() {
        var cache = RouteNameCache()
        Self.with(Array("GET".utf8), Array("/healthz".utf8)) { cache.keep(nil, method: $0, pathNeedsSlash: false, path: $1) }
        let found = Self.with(Array("GET".utf8), Array("/healthz".utf8)) { cache.named(method: $0, pathNeedsSlash: false, path: $1) }
        #expect(found != nil && found! == nil)
    }

    static func with<Result>(
        _ method: [UInt8], _ path: [UInt8], _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        method.withUnsafeBufferPointer { method in path.withUnsafeBufferPointer { path in body(method, path) } }
    }
}
