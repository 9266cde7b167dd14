import Testing
@testable import PeriscopeCore

@Suite struct InlineHistogramTests {
    /// Values on, between, below and above the bounds, zero, negatives, infinities and NaN
    /// are counted as `Histogram` counts them, with the same totals.
    @Test(arguments: [Histogram.durationBounds, Histogram.defaultBounds, [], [1.5]])
    func recordsAsHistogramRecords(bounds: [Double]) {
        var inline = InlineHistogram(bounds: bounds)
        var reference = Histogram(bounds: bounds)
        var values: [Double] = [0, -1, .infinity, -.infinity, .nan, 1e-9, 1e12]
        for bound in bounds { values += [bound, bound.nextDown, bound.nextUp] }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 { values.append(Double.random(in: -1..<12_000, using: &generator)) }
        for value in values {
            inline.record(value)
            reference.record(value)
        }
        let made = inline.histogram
        #expect(made.bounds == reference.bounds && made.counts == reference.counts && made.count == reference.count)
        #expect(made.min == reference.min && made.max == reference.max)
        #expect(made.sum.isNaN && reference.sum.isNaN)
        var finite = InlineHistogram(bounds: bounds)
        var finiteReference = Histogram(bounds: bounds)
        for value in values where value.isFinite {
            finite.record(value)
            finiteReference.record(value)
        }
        #expect(finite.histogram == finiteReference)
    }
}
