/// Delays between failed attempts: `initial`, doubling up to `maximum`, each stretched by up to
/// `jitter` × itself at random (client-go's reflector: 800 ms, ×2, 30 s, jitter 1.0).
public struct ExponentialBackoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var factor: Double
    public var jitter: Double
    private var current: Duration?
    private let random: @Sendable () -> Double

    /// `random` returns a value in [0, 1); injectable so tests are deterministic.
    public init(
        initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), factor: Double = 2, jitter: Double = 1,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self.random = random
    }

    /// The next delay; grows with each call until `reset()`.
    public mutating func next() -> Duration {
        let base = current.map { min($0 * factor, maximum) } ?? initial
        current = base
        return base * (1 + jitter * random())
    }

    public mutating func reset() {
        current = nil
    }
}
