import PeriscopeCore

extension ConnectionTrackerConfiguration {
    /// The tracker's share of a policy: which decoders run and whether queries are kept.
    init(policy: Policy) {
        self.init(protocols: policy.protocols, keepQuery: policy.capture.keepQuery)
    }
}
