import PeriscopeCore

extension NodeInstrumentation.PolicySettings {
    /// The effective settings of a validated policy: every default filled in, lists normalised.
    public init(namespace: String, name: String, generation: Int64, policy: Policy) {
        self.init(
            namespace: namespace, name: name, generation: generation,
            ports: policy.ports.ranges.map {
                InstrumentationPolicy.PortRange(port: Int64($0.lowerBound), endPort: $0.count > 1 ? Int64($0.upperBound) : nil)
            },
            executables: policy.executables.map(\.pattern),
            pids: policy.pids.map(Int64.init),
            protocols: policy.protocols.map(\.rawValue).sorted(),
            routes: policy.routes.map(\.pattern),
            sampling: InstrumentationPolicy.Sampling(sampler: policy.sampler.name, ratio: policy.sampler.ratio.map { "\($0)" }),
            exclude: InstrumentationPolicy.Exclude(
                pids: policy.exclude.pids.map(Int64.init), executables: policy.exclude.executables.map(\.pattern),
                routes: policy.exclude.routes.map(\.pattern)),
            capture: InstrumentationPolicy.Capture(
                payloadBytes: Int64(policy.capture.payloadBytes), keepQuery: policy.capture.keepQuery,
                keepQueryValues: policy.capture.keepQueryValues),
            export: policy.export.otlp.map { InstrumentationPolicy.Export(otlp: .init(endpoint: $0.endpoint)) },
            resourceAttributes: policy.resourceAttributes)
    }
}
