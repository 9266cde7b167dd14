/// A Go toolchain release, as a binary records it (`go1.19.8`, `go1.21rc2`, `go1.22.0 X:…`).
public struct GoVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `go1.N[.P]` with anything after the numbers (a pre-release, experiments)
    /// ignored; nil for other text (e.g. a `devel` toolchain).
    public init?(_ text: some StringProtocol) {
        guard text.hasPrefix("go") else { return nil }
        var numbers: [Int] = []
        var current: Int?
        for character in text.dropFirst(2) {
            if let digit = character.wholeNumberValue, character.isASCII {
                current = (current ?? 0) * 10 + digit
                guard current! < 1_000_000 else { return nil }
            } else if character == ".", let value = current, numbers.count < 2 {
                numbers.append(value)
                current = nil
            } else {
                break
            }
        }
        if let current { numbers.append(current) }
        guard numbers.count >= 2 else { return nil }
        self.init(numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 0)
    }

    public static func < (lhs: GoVersion, rhs: GoVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String { patch == 0 ? "go\(major).\(minor)" : "go\(major).\(minor).\(patch)" }
}
