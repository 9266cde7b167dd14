import Testing
import PeriscopeCore

@Suite struct SamplerTests {
    static func traceID(lastEight value: UInt64) -> TraceID {
        var bytes = [UInt8](repeating: 0xab, count: 8)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        return TraceID(bytes: bytes)
    }

    static let id = traceID(lastEight: 1)
    static let sampledParent = TraceContext(traceID: id, parentID: SpanID(bytes: [1, 2, 3, 4, 5, 6, 7, 8]), flags: 1)
    static let unsampledParent = TraceContext(traceID: id, parentID: SpanID(bytes: [1, 2, 3, 4, 5, 6, 7, 8]), flags: 0)

    @Test(arguments: [
        (Sampler.alwaysOn, true, true, true),
        (.alwaysOff, false, false, false),
        (.parentBasedAlwaysOn, true, true, false),
        (.parentBasedAlwaysOff, false, true, false),
        (.parentBasedTraceIDRatio(0), false, true, false),
        (.parentBasedTraceIDRatio(1), true, true, false),
        (.traceIDRatio(1), true, true, true),
        (.traceIDRatio(0), false, false, false),
    ])
    func followsTheParentOnlyWhenParentBased(sampler: Sampler, root: Bool, underSampled: Bool, underUnsampled: Bool) {
        #expect(sampler.shouldSample(traceID: Self.id, parent: nil) == root)
        #expect(sampler.shouldSample(traceID: Self.id, parent: Self.sampledParent) == underSampled)
        #expect(sampler.shouldSample(traceID: Self.id, parent: Self.unsampledParent) == underUnsampled)
    }

    @Test func ratioComparesTheLastEightBytesBigEndianAgainstRatioTimesTwoToThe64() {
        let quarter: UInt64 = 1 << 62
        #expect(Sampler.traceIDRatio(0.25).shouldSample(traceID: Self.traceID(lastEight: quarter - 1), parent: nil))
        #expect(!Sampler.traceIDRatio(0.25).shouldSample(traceID: Self.traceID(lastEight: quarter), parent: nil))
        #expect(!Sampler.traceIDRatio(0.999).shouldSample(traceID: Self.traceID(lastEight: .max), parent: nil))
        #expect(Sampler.traceIDRatio(1).shouldSample(traceID: Self.traceID(lastEight: .max), parent: nil))
        #expect(Sampler.traceIDRatio(0.9999999999999999).shouldSample(traceID: Self.traceID(lastEight: 0), parent: nil))
    }

    @Test(arguments: [0.25, 0.5, 0.1])
    func ratioKeepsThatShareOfRandomTraces(ratio: Double) {
        var generator = SeededGenerator(seed: UInt64(ratio * 1000))
        let total = 4000
        var kept = 0
        for _ in 0..<total {
            if Sampler.traceIDRatio(ratio).shouldSample(traceID: .random(using: &generator), parent: nil) { kept += 1 }
        }
        let share = Double(kept) / Double(total)
        #expect(abs(share - ratio) <= 0.03, "kept \(share)")
    }

    @Test func everyHopOfATraceDecidesTheSame() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let id = TraceID.random(using: &generator)
            #expect(Sampler.traceIDRatio(0.3).shouldSample(traceID: id, parent: nil)
                == Sampler.parentBasedTraceIDRatio(0.3).shouldSample(traceID: id, parent: nil))
        }
    }

    @Test func namesAndRatiosRoundTrip() {
        #expect(Sampler.default == .parentBasedAlwaysOn)
        #expect(Sampler.parentBasedTraceIDRatio(0.25).name == "parentbased_traceidratio")
        #expect(Sampler.parentBasedTraceIDRatio(0.25).ratio == 0.25)
        #expect(Sampler.alwaysOn.ratio == nil)
        #expect(Set([Sampler.alwaysOn, .alwaysOff, .traceIDRatio(1), .parentBasedAlwaysOn, .parentBasedAlwaysOff,
                     .parentBasedTraceIDRatio(1)].map(\.name)) == Set(Sampler.names))
    }
}
