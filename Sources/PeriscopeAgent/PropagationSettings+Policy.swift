import PeriscopeBPF
import PeriscopeCore

extension PropagationSettings {
    /// The kernel's share of the policies for trace context in traffic: on unless every policy
    /// says `propagation: none`; off for the processes whose own policy says so; roots the
    /// kernel begins sampled as the node's merged policy samples roots.
    init(policies: PolicySet, owners: [Int32: Int]) {
        var disabled: Set<Int32> = []
        if policies.policies.count > 1 {
            for (pid, owner) in owners where policies.policies.indices.contains(owner) && policies.policies[owner].propagation == .none {
                disabled.insert(pid)
            }
        }
        self.init(
            enabled: policies.merged.propagation != .none, disabledPIDs: disabled,
            rootThreshold: Self.rootThreshold(of: policies.merged.sampler)
        )
    }

    /// The threshold under which the kernel samples a root it begins, as `sampler` decides
    /// roots (the ratio samplers keep trace ids whose last eight bytes are below ratio × 2⁶⁴).
    static func rootThreshold(of sampler: Sampler) -> UInt64 {
        switch sampler {
        case .alwaysOn, .parentBasedAlwaysOn: return .max
        case .alwaysOff, .parentBasedAlwaysOff: return 0
        case .traceIDRatio(let ratio), .parentBasedTraceIDRatio(let ratio):
            guard ratio > 0 else { return 0 }
            let threshold = ratio * 18_446_744_073_709_551_616.0
            return threshold >= 18_446_744_073_709_551_616.0 ? .max : UInt64(threshold)
        }
    }
}
