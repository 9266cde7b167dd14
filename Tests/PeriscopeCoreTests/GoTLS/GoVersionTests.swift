import PeriscopeCore
import Testing

@Suite struct GoVersionTests {
    @Test(arguments: [
        ("go1.19.8", GoVersion(1, 19, 8)),
        ("go1.17", GoVersion(1, 17, 0)),
        ("go1.21rc2", GoVersion(1, 21, 0)),
        ("go1.22.0 X:boringcrypto", GoVersion(1, 22, 0)),
        ("go1.25.3-fips", GoVersion(1, 25, 3)),
    ])
    func parsesReleases(_ text: String, _ expected: GoVersion) {
        #expect(GoVersion(text) == expected)
    }

    @Test(arguments: ["devel go1.23-abcdef", "go1", "go", "", "1.19.8", "go1.x", "go99999999.1"])
    func refusesOtherText(_ text: String) {
        #expect(GoVersion(text) == nil)
    }

    @Test func ordersReleases() {
        #expect(GoVersion(1, 16, 15) < GoVersion(1, 17))
        #expect(GoVersion(1, 19, 8) < GoVersion(1, 19, 10))
        #expect(GoVersion(1, 9) < GoVersion(1, 10))
        #expect(GoVersion(1, 19, 8).description == "go1.19.8" && GoVersion(1, 17).description == "go1.17")
    }
}
