/// A `Histogram` of at most `maximumBounds` bounds held in line, as the HTTP series record into
/// it for every span: its bounds and counts fixed-size fields of its own, so a record neither
/// checks that shared storage is its own nor leaves the series' memory. Made a `Histogram`
/// when the metrics are read.
struct InlineHistogram {
    static let maximumBounds = 15

    private var bounds = InlineArray<15, Double>(repeating: 0)
    private let boundCount: Int
    private var counts = InlineArray<16, UInt64>(repeating: 0)
    private var count: UInt64 = 0
    private var sum: Double = 0
    private var min: Double = .infinity
    private var max: Double = -.infinity

    /// `bounds`: at most `maximumBounds`, ascending.
    init(bounds: [Double]) {
        precondition(bounds.count <= Self.maximumBounds, "an inline histogram has at most \(Self.maximumBounds) bounds")
        boundCount = bounds.count
        for (index, bound) in bounds.enumerated() { self.bounds[index] = bound }
    }

    /// `Histogram.record`: the value counted in the first bucket whose bound is not below it
    /// (a NaN, above none, in the first).
    @inline(__always)
    mutating func record(_ value: Double) {
        var index = 0
        while index < boundCount, value > bounds[index] { index &+= 1 }
        counts[index] &+= 1
        count &+= 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
    }

    var histogram: Histogram {
        var bounds: [Double] = []
        var counts: [UInt64] = []
        for index in 0..<boundCount { bounds.append(self.bounds[index]) }
        for index in 0...boundCount { counts.append(self.counts[index]) }
        return Histogram(bounds: bounds, counts: counts, count: count, sum: sum, min: min, max: max)
    }
}
