import Foundation
import PeriscopeCore
import PeriscopeKube

/// The checks a CRD schema cannot make, on top of the policy model's own
/// (`PeriscopeCore.Policy.parse`): duplicate and overlapping ports, globs that do not compile,
/// excludes that contradict the policy, malformed selector expressions.
public enum PolicyValidation {
    /// The policy model for a spec, or why it cannot be accepted.
    public static func validate(_ spec: InstrumentationPolicy.Spec) -> Result<Policy, PolicyRejection> {
        if let rejection = checkSelector(spec) ?? checkContainers(spec) ?? checkPorts(spec) {
            return .failure(rejection)
        }
        let policy: Policy
        do {
            let json = try JSONValue(encoding: spec).encoded()
            policy = try Policy.parse(yaml: String(decoding: json, as: UTF8.self), environment: .cluster)
        } catch let error as PolicyError {
            let reason: PolicyRejection.Reason = error.field.contains("executables") ? .invalidGlob : .invalidSpec
            return .failure(PolicyRejection(reason, "\(error)"))
        } catch {
            return .failure(PolicyRejection(.invalidSpec, "spec cannot be read: \(error)"))
        }
        if let rejection = checkExcludes(spec, policy: policy) { return .failure(rejection) }
        return .success(policy)
    }

    static func checkSelector(_ spec: InstrumentationPolicy.Spec) -> PolicyRejection? {
        for (index, expression) in (spec.podSelector?.matchExpressions ?? []).enumerated() {
            let field = "spec.podSelector.matchExpressions[\(index)]"
            let values = expression.values ?? []
            let needsValues = ["In", "NotIn"].contains(expression.operator)
            guard needsValues || ["Exists", "DoesNotExist"].contains(expression.operator) else {
                return PolicyRejection(.invalidSelector, "\(field): unknown operator \(expression.operator); use In, NotIn, Exists or DoesNotExist")
            }
            if needsValues, values.isEmpty {
                return PolicyRejection(
                    .invalidSelector, "\(field): operator \(expression.operator) needs at least one value; list the values of \(expression.key) to match")
            }
            if !needsValues, !values.isEmpty {
                return PolicyRejection(
                    .invalidSelector, "\(field): operator \(expression.operator) takes no values; remove values or use In/NotIn")
            }
        }
        return nil
    }

    static func checkContainers(_ spec: InstrumentationPolicy.Spec) -> PolicyRejection? {
        var seen: Set<String> = []
        for (index, name) in (spec.containers ?? []).enumerated() where !seen.insert(name).inserted {
            return PolicyRejection(.duplicateContainers, "spec.containers[\(index)]: \(name) is listed twice; list each container once")
        }
        return nil
    }

    static func checkPorts(_ spec: InstrumentationPolicy.Spec) -> PolicyRejection? {
        let ports = spec.ports ?? []
        func text(_ range: InstrumentationPolicy.PortRange) -> String {
            range.endPort.map { $0 == range.port ? "\(range.port)" : "\(range.port)-\($0)" } ?? "\(range.port)"
        }
        for (i, first) in ports.enumerated() {
            let firstEnd = first.endPort ?? first.port
            guard firstEnd >= first.port else { continue }  // the policy model explains this one
            for j in ports.indices where j > i {
                let second = ports[j]
                let secondEnd = second.endPort ?? second.port
                guard secondEnd >= second.port else { continue }
                if first.port == second.port, firstEnd == secondEnd {
                    return PolicyRejection(
                        .duplicatePorts, "spec.ports[\(j)] (\(text(second))) repeats spec.ports[\(i)]; remove one of them")
                }
                if first.port <= secondEnd, second.port <= firstEnd {
                    return PolicyRejection(
                        .overlappingPorts,
                        "spec.ports[\(i)] (\(text(first))) and spec.ports[\(j)] (\(text(second))) overlap; merge them into one range or make them disjoint")
                }
            }
        }
        return nil
    }

    static func checkExcludes(_ spec: InstrumentationPolicy.Spec, policy: Policy) -> PolicyRejection? {
        let excluded = Set(policy.exclude.pids)
        if let pid = policy.pids.first(where: excluded.contains) {
            return PolicyRejection(
                .conflictingExcludes, "spec.exclude.pids lists \(pid), which spec.pids asks to trace; remove it from one of the two")
        }
        let included = Set(policy.executables.map(\.pattern))
        if let glob = policy.exclude.executables.first(where: { included.contains($0.pattern) }) {
            return PolicyRejection(
                .conflictingExcludes,
                "spec.exclude.executables lists \"\(glob.pattern)\", which spec.executables asks to trace; remove it from one of the two")
        }
        if let glob = policy.exclude.executables.first(where: { $0.pattern.allSatisfy { $0 == "*" } }) {
            return PolicyRejection(
                .conflictingExcludes, "spec.exclude.executables \"\(glob.pattern)\" excludes every process, so nothing would be traced; narrow it")
        }
        let routes = Set(policy.routes.map(\.pattern))
        if let route = policy.exclude.routes.first(where: { routes.contains($0.pattern) }) {
            return PolicyRejection(
                .conflictingExcludes, "spec.exclude.routes lists \"\(route.pattern)\", which spec.routes reports; remove it from one of the two")
        }
        return nil
    }
}
