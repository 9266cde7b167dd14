/// A cumulative explicit-bucket histogram, as OpenTelemetry and Prometheus count them:
/// `counts[i]` holds values `v` with `bounds[i-1] < v <= bounds[i]`, the last count
/// everything above the last bound.
public struct Histogram: Sendable, Equatable {
    /// OpenTelemetry's advice for HTTP durations, in seconds.
    public static let durationBounds: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]
    /// The OpenTelemetry SDK default boundaries, used for sizes in bytes.
    public static let defaultBounds: [Double] = [
        0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
    ]

    public let bounds: [Double]
    public private(set) var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Double = 0
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = -.infinity

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = [UInt64](repeating: 0, count: bounds.count + 1)
    }

    /// A histogram with these counts (one more than the bounds) and totals.
    init(bounds: [Double], counts: [UInt64], count: UInt64, sum: Double, min: Double, max: Double) {
        self.bounds = bounds
        self.counts = counts
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
    }

    public mutating func record(_ value: Double) {
        var index = 0
        while index < bounds.count, value > bounds[index] { index += 1 }
        counts[index] += 1
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
    }

    /// Adds another histogram with the same bounds.
    public mutating func merge(_ other: Histogram) {
        precondition(other.bounds == bounds, "histograms merge only with the same bounds")
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }
}
