import PeriscopeCore

extension ConnectionTrackerConfiguration {
    /// The tracker's share of a policy: which decoders run, whether queries are kept, and
    /// the sampler deciding traces that begin here.
    public init(policy: Policy) {
        self.init(protocols: policy.protocols, keepQuery: policy.capture.keepQuery, sampler: policy.sampler)
    }
}
