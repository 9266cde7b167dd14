import Foundation
import PeriscopeBPF
import PeriscopeCore
import PeriscopeTestSupport
import Testing

/// A tracer of `variant`, attached, with propagation enabled over it in the host's cgroup v2
/// hierarchy; no process selected yet.
func propagatingTracer(variant: Tracer.Variant = .btf) throws -> (Tracer, Propagation) {
    try Tracefs.ensureMounted()
    let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
    let cgroup = try #require(Propagation.cgroup2MountPoint(mounts: mounts))
    let tracer = try Tracer(variant: variant)
    let propagation = try Propagation(tracer: tracer, cgroupPath: cgroup)
    try propagation.apply(PropagationSettings(enabled: true))
    try tracer.attach()
    return (tracer, propagation)
}
