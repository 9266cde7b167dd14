import Testing
import PeriscopeCore

@Suite struct PortSetTests {
    @Test func mergesOverlappingAndAdjacentRanges() {
        let set = PortSet([9000...9100, 80...80, 81...85, 8000...9000, 443...443, 84...90])
        #expect(set.ranges == [80...90, 443...443, 8000...9100])
        #expect(set.count == 11 + 1 + 1101)
    }

    @Test(arguments: [(79, false), (80, true), (90, true), (91, false), (443, true), (8999, true), (9101, false), (0, false), (65535, false)] as [(UInt16, Bool)])
    func containsExactlyItsPorts(port: UInt16, expected: Bool) {
        #expect(PortSet([80...90, 443...443, 8000...9100]).contains(port) == expected)
    }

    @Test func emptySetContainsNothingButPolicyTracesEveryPort() {
        #expect(PortSet().isEmpty)
        #expect(!PortSet().contains(80))
        #expect(Policy().tracesPort(80))
        #expect(!Policy(ports: PortSet([443...443])).tracesPort(80))
    }

    @Test(arguments: [
        [ClosedRange<UInt16>](), [0...0], [1...1], [63...64], [80...80, 443...443], [8000...9000],
        [0...65535], [65535...65535], [100...227, 1000...1000, 65472...65535],
    ])
    func bitmapSetsBitPortMod64OfWordPortDiv64(ranges: [ClosedRange<UInt16>]) {
        let set = PortSet(ranges)
        let words = set.bitmap()
        #expect(words.count == 1024)
        for port in 0...65535 {
            let bit = words[port / 64] >> UInt64(port % 64) & 1 == 1
            if bit != set.contains(UInt16(port)) {
                Issue.record("port \(port): bit \(bit), contains \(set.contains(UInt16(port)))")
                return
            }
        }
    }

    @Test func bitmapOfOnePortHasOneBit() {
        let words = PortSet([8080...8080]).bitmap()
        #expect(words[126] == 1 << 16)
        #expect(words.reduce(0) { $0 + $1.nonzeroBitCount } == 1)
    }
}
