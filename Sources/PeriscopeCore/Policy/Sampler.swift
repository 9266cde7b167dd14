/// The OpenTelemetry head samplers a policy can name under `spec.sampling.sampler`.
public enum Sampler: Sendable, Hashable {
    /// `always_on`: keep every trace.
    case alwaysOn
    /// `always_off`: keep nothing.
    case alwaysOff
    /// `traceidratio`: keep a fraction (0…1) of traces, decided from the trace id.
    case traceIDRatio(Double)
    /// `parentbased_always_on` (the default): follow the caller's sampled flag; keep roots.
    case parentBasedAlwaysOn
    /// `parentbased_always_off`: follow the caller's sampled flag; drop roots.
    case parentBasedAlwaysOff
    /// `parentbased_traceidratio`: follow the caller's sampled flag; roots by ratio.
    case parentBasedTraceIDRatio(Double)

    /// The sampler used when a policy names none.
    public static let `default` = Sampler.parentBasedAlwaysOn

    /// Names as written in a policy, in the order they are documented.
    public static let names = [
        "always_on", "always_off", "traceidratio",
        "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
    ]

    /// The name as written in a policy (`parentbased_traceidratio`).
    public var name: String {
        switch self {
        case .alwaysOn: "always_on"
        case .alwaysOff: "always_off"
        case .traceIDRatio: "traceidratio"
        case .parentBasedAlwaysOn: "parentbased_always_on"
        case .parentBasedAlwaysOff: "parentbased_always_off"
        case .parentBasedTraceIDRatio: "parentbased_traceidratio"
        }
    }

    /// The ratio of the two ratio samplers; nil for the others.
    public var ratio: Double? {
        switch self {
        case .traceIDRatio(let r), .parentBasedTraceIDRatio(let r): r
        default: nil
        }
    }

    /// Whether a span of trace `traceID` is kept. Parent-based samplers follow the
    /// parent's sampled flag when there is a parent, otherwise their root sampler.
    /// Ratio decisions depend only on the trace id, so every hop of a trace agrees.
    public func shouldSample(traceID: TraceID, parent: TraceContext?) -> Bool {
        switch self {
        case .alwaysOn: return true
        case .alwaysOff: return false
        case .traceIDRatio(let ratio): return Self.ratioKeeps(traceID, ratio: ratio)
        case .parentBasedAlwaysOn: return parent?.sampled ?? true
        case .parentBasedAlwaysOff: return parent?.sampled ?? false
        case .parentBasedTraceIDRatio(let ratio):
            if let parent { return parent.sampled }
            return Self.ratioKeeps(traceID, ratio: ratio)
        }
    }

    /// The last eight bytes of the trace id as a big-endian integer, kept when below
    /// `ratio × 2^64`.
    static func ratioKeeps(_ traceID: TraceID, ratio: Double) -> Bool {
        guard ratio > 0 else { return false }
        let threshold = ratio * 18_446_744_073_709_551_616.0
        guard threshold < 18_446_744_073_709_551_616.0 else { return true }
        let value = traceID.low  // the last eight bytes, big-endian
        return value < UInt64(threshold)
    }
}
